// Finding the folder a web server serves, from inside its container, so a check can drop a fresh file there and see
// whether a request that went through another container (a proxy) comes back with it: only the real server has it.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { CheckContext } from '../model.ts';
import { type HttpProbe, httpGet } from './http.ts';

/** One process of a container, as /proc shows it. */
export interface ProcessInfo {
  pid: string;
  cwd: string;
  argv: string[];
}

// Each process as "pid <pid> <cwd>" then one "arg <value>" line per argument; then the nginx configuration, if any.
const PROC_SCRIPT = `for p in /proc/[0-9]*; do
  [ -r "$p/cmdline" ] || continue
  echo "pid \${p#/proc/} $(readlink "$p/cwd" 2>/dev/null)"
  tr '\\0' '\\n' < "$p/cmdline" 2>/dev/null | sed 's/^/arg /'
done
echo "--nginx--"
cat /etc/nginx/nginx.conf /etc/nginx/conf.d/*.conf /etc/nginx/sites-enabled/* 2>/dev/null`;

/** Parses PROC_SCRIPT's process listing. */
export function parseProcesses(text: string): ProcessInfo[] {
  const processes: ProcessInfo[] = [];
  for (const line of text.split('\n')) {
    const head = /^pid (\d+) ?(.*)$/.exec(line);
    if (head) processes.push({ pid: head[1] as string, cwd: head[2] ?? '', argv: [] });
    else if (line.startsWith('arg ')) processes.at(-1)?.argv.push(line.slice(4));
  }
  return processes;
}

/**
 * The folders a busybox httpd process may serve: busybox httpd changes into its home folder (\`-h DIR\`, default the
 * folder it started in) before serving, so its working folder is the root; an absolute \`-h\` is the same folder.
 */
function httpdRoots(p: ProcessInfo): string[] {
  const args = posix.basename(p.argv[0] ?? '') === 'busybox' ? p.argv.slice(1) : p.argv;
  if (posix.basename(args[0] ?? '') !== 'httpd') return [];
  let home: string | undefined;
  for (const [i, arg] of args.entries()) {
    if (arg === '-h') home = args[i + 1];
    else if (arg.startsWith('-h')) home = arg.slice(2);
  }
  return [p.cwd, home].filter((r): r is string => r?.startsWith('/') === true);
}

/** Usual web roots, tried after the ones the processes and configuration name. */
const USUAL_ROOTS = ['/www', '/usr/share/nginx/html', '/var/www/html', '/var/www', '/srv'];

/**
 * Folders the container may serve, most likely first: httpd's working folder and `-h`, nginx `root` directives,
 * then usual places. Only absolute paths, each once.
 */
export function webRootCandidates(processes: readonly ProcessInfo[], nginxConf: string): string[] {
  const fromHttpd = processes.flatMap(httpdRoots);
  const fromNginx = [...nginxConf.matchAll(/^\s*root\s+["']?([^;"'\s]+)["']?\s*;/gm)].map((m) => m[1] as string);
  return [
    ...new Set([...fromHttpd, ...fromNginx, ...USUAL_ROOTS].map((r) => posix.normalize(r).replace(/(.)\/+$/, '$1'))),
  ].filter((r) => r.startsWith('/'));
}

/** A file the checker created in the served folder, and the URL path it should be served at. */
export interface PlantedFile {
  path: string;
  content: string;
}

/** What `plantFiles` found: the served folder and the files now in it, or why there is none. */
export type Planted =
  | { ok: true; root: string; files: PlantedFile[]; tried: string[] }
  | { ok: false; tried: string[]; probes: HttpProbe[] };

// Writes $3 to $2 under the existing folder $1 (never creating $1 itself in the learner's container).
const WRITE_SCRIPT = 'cd "$1" || exit 3; mkdir -p "$(dirname "./$2")" && printf "%s" "$3" > "./$2"';

async function write(ctx: CheckContext, pod: string, container: string, root: string, file: PlantedFile) {
  const argv = ['sh', '-c', WRITE_SCRIPT, 'write', root, file.path.slice(1), file.content];
  const result = await ctx.exec(pod, container, argv, {
    timeoutMs: 5000,
  });
  return result.exitCode === 0;
}

/** Deletes what `plantFiles` created (best effort: the files are harmless if one is left behind). */
export async function removePlanted(
  ctx: CheckContext,
  pod: string,
  container: string,
  root: string,
  files: PlantedFile[],
) {
  // Each file is either right in the root or in a folder of its own there: remove that top-level entry.
  const paths = files.map((f) => posix.join(root, f.path.split('/')[1] ?? ''));
  await ctx.exec(pod, container, ['rm', '-rf', ...paths], { timeoutMs: 5000 }).catch(() => undefined);
}

/**
 * Finds the folder `container` serves on `port` by writing a fresh file into each candidate folder and asking the
 * server for it, then adds a second fresh file one folder deeper, so a proxy is asked for two different paths.
 */
export async function plantFiles(ctx: CheckContext, pod: string, container: string, port: number): Promise<Planted> {
  const listing = await ctx.exec(pod, container, ['sh', '-c', PROC_SCRIPT], { timeoutMs: 5000 });
  const [procText = '', nginxConf = ''] = listing.stdout.split('--nginx--');
  const candidates = webRootCandidates(parseProcesses(procText), nginxConf);
  const tag = randomBytes(6).toString('hex');
  const first = { path: `/sidecar-lab-${tag}.txt`, content: `sidecar-lab nonce ${randomBytes(8).toString('hex')}` };
  const second = {
    path: `/sidecar-lab-${tag}/check.txt`,
    content: `sidecar-lab nonce ${randomBytes(8).toString('hex')}`,
  };
  const tried: string[] = [];
  const probes: HttpProbe[] = [];
  for (const root of candidates.slice(0, 8)) {
    if (!(await write(ctx, pod, container, root, first))) continue;
    tried.push(root);
    const probe = await httpGet(ctx, pod, [container], { host: '127.0.0.1', port, path: first.path });
    if (probe.status === 200 && probe.body.includes(first.content)) {
      if (await write(ctx, pod, container, root, second)) {
        return { ok: true, root, files: [first, second], tried };
      }
    }
    probes.push(probe);
    await removePlanted(ctx, pod, container, root, [first, second]);
  }
  return { ok: false, tried, probes };
}
