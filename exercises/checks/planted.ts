// A file only one container can serve: the checker writes a random token into that container's web root (by exec),
// so an HTTP answer carrying the token proves which server answered, not merely that something did.
import { randomBytes } from 'node:crypto';
import type { CheckContext } from '../model.ts';

/** Where the stock nginx image serves files from. */
export const NGINX_WEB_ROOT = '/usr/share/nginx/html';

/** A token file written into a container. */
export interface PlantedFile {
  /** URL path to ask for, e.g. "/sidecar-lab-check-0a1b2c.txt". */
  urlPath: string;
  /** Absolute path inside the container. */
  file: string;
  token: string;
}

/** Writes a fresh token file into `dir` of one container; the error says why it could not. */
export async function plantToken(
  ctx: CheckContext,
  pod: string,
  container: string,
  dir: string,
): Promise<{ ok: true; planted: PlantedFile } | { ok: false; error: string }> {
  const token = randomBytes(12).toString('hex');
  const name = `sidecar-lab-check-${randomBytes(4).toString('hex')}.txt`;
  const file = `${dir.replace(/\/+$/, '')}/${name}`;
  // The token and path travel as arguments, never inside the script text.
  const result = await ctx.exec(pod, container, ['sh', '-c', 'printf %s "$1" > "$2"', 'sh', token, file], {
    timeoutMs: 5000,
  });
  if (result.exitCode !== 0) {
    const why = result.stderr.trim() || (result.timedOut ? 'no answer in time' : `exit code ${result.exitCode}`);
    return { ok: false, error: why };
  }
  return { ok: true, planted: { urlPath: `/${name}`, file, token } };
}

/** Removes a planted file again; a container that has gone away meanwhile takes the file with it. */
export async function removePlanted(ctx: CheckContext, pod: string, container: string, planted: PlantedFile) {
  await ctx.exec(pod, container, ['rm', '-f', planted.file], { timeoutMs: 3000 });
}
