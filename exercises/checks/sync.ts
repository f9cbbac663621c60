// "The shared volume stays in step with a source": the checker adds, changes and removes files at the source (by exec
// in the source's container) and watches what main-app serves on localhost. Only a sidecar that keeps copying, and
// removes what the source no longer has, passes; a file main-app serves must also lie in its own web root (a
// main-app that fetched from the source itself would not have it).
import { randomBytes } from 'node:crypto';
import type { CheckContext } from '../model.ts';
import { type HttpProbe, httpGet, probeEvidence } from './http.ts';

/** Where the source keeps its files, and the container that has them. */
export interface SyncSource {
  pod: string;
  container: string;
  dir: string;
}

/** Where the synced copy is served: the Pod, main-app's web root, and the containers requests may come from. */
export interface SyncTarget {
  pod: string;
  main: string;
  webRoot: string;
  askFrom: readonly string[];
}

/** A fresh name for a file only the checker knows. */
export const checkerFileName = () => `sidecar-lab-${randomBytes(5).toString('hex')}.txt`;
/** A fresh content only the checker knows. */
export const checkerContent = () => `sidecar-lab sync check ${randomBytes(8).toString('hex')}`;

/** Writes (or, with `content` undefined, removes) one file at the source; throws nothing, returns the error. */
export async function changeAtSource(
  ctx: CheckContext,
  source: SyncSource,
  name: string,
  content: string | undefined,
): Promise<string | undefined> {
  const path = `${source.dir}/${name}`;
  // The content and path travel as arguments, never inside the script text.
  const argv =
    content === undefined
      ? ['rm', '-f', path]
      : ['sh', '-c', 'printf "%s\\n" "$1" > "$2.tmp" && mv "$2.tmp" "$2"', 'sh', content, path];
  const result = await ctx.exec(source.pod, source.container, argv, { timeoutMs: 5000 });
  if (result.exitCode === 0) return undefined;
  return result.stderr.trim() || (result.timedOut ? 'no answer in time' : `exit code ${result.exitCode}`);
}

/** What main-app answered for one file, and whether its web root holds it. */
export interface ServedFile {
  probe: HttpProbe;
  /** The file's content in main-app's web root; undefined when it is not there. */
  local: string | undefined;
}

/** Asks main-app for `/name` on localhost:80 and reads the same file from its web root. */
export async function servedFile(ctx: CheckContext, target: SyncTarget, name: string): Promise<ServedFile> {
  const probe = await httpGet(ctx, target.pod, target.askFrom, { host: '127.0.0.1', port: 80, path: `/${name}` });
  const cat = await ctx.exec(target.pod, target.main, ['cat', `${target.webRoot}/${name}`], { timeoutMs: 5000 });
  return { probe, local: cat.exitCode === 0 ? cat.stdout : undefined };
}

/** Waits until `wanted` holds for what main-app serves for `name`; resolves with the last observation either way. */
export async function waitForServed(
  ctx: CheckContext,
  target: SyncTarget,
  name: string,
  wanted: (served: ServedFile) => boolean,
  timeoutMs: number,
): Promise<{ ok: boolean; last: ServedFile | undefined; waitedMs: number }> {
  const started = Date.now();
  let last: ServedFile | undefined;
  const waited = await ctx.waitFor(
    async () => {
      last = await servedFile(ctx, target, name);
      return wanted(last);
    },
    { timeoutMs, intervalMs: 1000 },
  );
  return { ok: waited.ok, last, waitedMs: Date.now() - started };
}

/** True when main-app answers 200 with `content`. */
export const servesContent = (content: string) => (s: ServedFile) =>
  s.probe.status === 200 && s.probe.body.trim() === content;

/** True when main-app answers 404 for the file. */
export const servesNotFound = (s: ServedFile) => s.probe.status === 404;

/** Evidence for one observation. */
export const servedEvidence = (s: ServedFile | undefined) =>
  s && { probe: probeEvidence(s.probe), inWebRoot: s.local === undefined ? false : s.local.slice(0, 200) };
