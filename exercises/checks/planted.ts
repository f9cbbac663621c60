// A file only one container can serve: the checker writes a random token into that container's web root (by exec),
// so an HTTP answer carrying the token proves which server answered, not merely that something did.
import { randomBytes } from 'node:crypto';
import type { CheckContext } from '../model.ts';
import { type HttpProbe, httpGet } from './http.ts';

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

/** What `askForPlanted` saw: the request, the token it expected, and whether the answer carried it. */
export interface PlantedProbe {
  probe: HttpProbe;
  /** Undefined when no token could be planted (the request then went to "/" and proves only that something answered). */
  token: string | undefined;
  plantError: string | undefined;
  /** True when the answer was the planted token: `server` answered. */
  served: boolean;
}

/**
 * Plants a token in `server`'s web root, GETs it (with `query`, if any) from the first usable of `from`, and removes
 * it again. When the token cannot be planted, asks for "/" instead and says so (`token` undefined).
 */
export async function askForPlanted(
  ctx: CheckContext,
  pod: string,
  server: string,
  from: readonly string[],
  target: { host: string; port: number; query?: string; webRoot?: string },
): Promise<PlantedProbe> {
  const planted = await plantToken(ctx, pod, server, target.webRoot ?? NGINX_WEB_ROOT);
  const path = `${planted.ok ? planted.planted.urlPath : '/'}${target.query ? `?${target.query}` : ''}`;
  const probe = await httpGet(ctx, pod, from, { host: target.host, port: target.port, path });
  if (!planted.ok) return { probe, token: undefined, plantError: planted.error, served: false };
  await removePlanted(ctx, pod, server, planted.planted);
  const { token } = planted.planted;
  return { probe, token, plantError: undefined, served: probe.status === 200 && probe.body.trim() === token };
}
