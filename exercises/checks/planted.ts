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

/** A planted page while it is there: the URL path to ask for, and the token an answer from `server` carries. */
export interface PlantedPage {
  /** The planted file's URL path, or "/" when nothing could be planted. */
  urlPath: string;
  /** Undefined when nothing could be planted: then an answer proves only that something answered. */
  token: string | undefined;
  plantError: string | undefined;
}

/** True when `probe` got the planted page back: the server that serves the web root answered. */
export const servedPage = (probe: HttpProbe, page: PlantedPage) =>
  page.token !== undefined && probe.status === 200 && probe.body.trim() === page.token;

/** Plants a page in `server`'s web root for the time `use` runs (one exec to plant, one to remove, whatever `use` asks). */
export async function withPlantedPage<T>(
  ctx: CheckContext,
  pod: string,
  server: string,
  use: (page: PlantedPage) => Promise<T>,
  webRoot = NGINX_WEB_ROOT,
): Promise<T> {
  const planted = await plantToken(ctx, pod, server, webRoot);
  if (!planted.ok) return use({ urlPath: '/', token: undefined, plantError: planted.error });
  try {
    return await use({ urlPath: planted.planted.urlPath, token: planted.planted.token, plantError: undefined });
  } finally {
    await removePlanted(ctx, pod, server, planted.planted);
  }
}

/** What `askForPlanted` saw: the request, the page it asked for, and whether the answer was that page. */
export interface PlantedProbe {
  probe: HttpProbe;
  page: PlantedPage;
  served: boolean;
}

/** Plants a page in `server`'s web root and GETs it once from the first usable of `from`. */
export function askForPlanted(
  ctx: CheckContext,
  pod: string,
  server: string,
  from: readonly string[],
  target: { host: string; port: number },
): Promise<PlantedProbe> {
  return withPlantedPage(ctx, pod, server, async (page) => {
    const probe = await httpGet(ctx, pod, from, { ...target, path: page.urlPath });
    return { probe, page, served: servedPage(probe, page) };
  });
}
