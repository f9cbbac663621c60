// Running a container's readiness probe the way the kubelet would, under conditions where it must fail, so a check
// can tell a probe that tests something from one that always passes (`exec: ["true"]`) or tests another container.
import { randomBytes } from 'node:crypto';
import type { CheckContext, Container, Probe } from '../model.ts';

/** The port a network probe asks, with a named port resolved from the container's ports; undefined for exec. */
export function probePort(container: Container, probe: Probe): number | undefined {
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports.find((p) => p.name === port)?.containerPort;
}

/**
 * `argv` with every mention of the folder `from` (as a whole path: `from` itself or `from/…`) pointed at `to`, and
 * whether anything changed. Used to run a probe as if a file it should depend on were gone.
 */
export function pointPathsAt(argv: readonly string[], from: string, to: string) {
  const base = from.replace(/\/+$/, '');
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`${escaped}(?=$|[/\\s"';&|)])`, 'g');
  const changed = argv.map((arg) => arg.replace(pattern, to));
  return { argv: changed, replaced: changed.some((arg, i) => arg !== argv[i]) };
}

// Runs "$@" bounded by the probe's timeout, as the kubelet would; exits with its code.
const RUN_SCRIPT = `t=$1; shift
if command -v timeout >/dev/null 2>&1; then exec timeout "$t" "$@"; fi
exec "$@"`;

/** The exit code of `argv` run in `container` with the probe's timeout; null when it did not finish. */
export async function runProbeCommand(
  ctx: CheckContext,
  pod: string,
  container: string,
  argv: readonly string[],
  timeoutSeconds: number,
) {
  const result = await ctx.exec(pod, container, ['sh', '-c', RUN_SCRIPT, 'probe', String(timeoutSeconds), ...argv], {
    timeoutMs: timeoutSeconds * 1000 + 4000,
  });
  return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}`.slice(0, 500) };
}

// Freezes (SIGSTOP) every process of the container — except PID 1, which cannot be stopped from inside its
// namespace, and this shell — runs the probe command "$@" (bounded by $2 seconds), then thaws them. Every process,
// not just the socket's holders: a server's workers often run as another user whose /proc/<pid>/fd root cannot read
// without CAP_SYS_PTRACE. A detached timer thaws them too, should this shell be cut off. A control request to port $1
// over bash's /dev/tcp says whether it still answered HTTP while frozen (then nothing can be concluded).
const FREEZE_SCRIPT = `dport=$1; t=$2; shift 2
pids=""
for p in /proc/[0-9]*; do
  pid=\${p#/proc/}
  if [ "$pid" = 1 ] || [ "$pid" = "$$" ]; then continue; fi
  pids="$pids $pid"
done
echo "frozen=$pids"
[ -n "$pids" ] || exit 0
(sleep 8; kill -CONT $pids) >/dev/null 2>&1 &
kill -STOP $pids
if command -v timeout >/dev/null 2>&1; then timeout "$t" "$@" >/dev/null 2>&1; else "$@" >/dev/null 2>&1; fi
rc=$?
control=""
if command -v bash >/dev/null 2>&1; then
  control=$(timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && exec head -c 12 <&3' "$dport" 2>/dev/null)
fi
kill -CONT $pids
echo "probe-exit=$rc"
echo "control=$control"`;

/** What happened when a probe command ran while the container's processes were frozen. */
export interface FrozenRun {
  /** Pids that were frozen; empty when the container runs nothing but PID 1 (then nothing was run). */
  frozen: string[];
  /** The probe command's exit code while frozen. */
  exitCode: number | undefined;
  /** True when the port still answered HTTP while frozen: the freeze did not take. */
  stillAnswered: boolean;
}

/** Parses FREEZE_SCRIPT's output. */
export function parseFrozenRun(stdout: string): FrozenRun {
  const frozen = (/^frozen=(.*)$/m.exec(stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const code = /^probe-exit=(\d+)$/m.exec(stdout)?.[1];
  return {
    frozen,
    exitCode: code === undefined ? undefined : Number(code),
    stillAnswered: /^control=HTTP\//m.test(stdout),
  };
}

/** Runs `argv` in `container` while its processes (but PID 1) are frozen for a moment; `port` is asked as a control. */
export async function runWhileFrozen(
  ctx: CheckContext,
  pod: string,
  container: string,
  port: number,
  argv: readonly string[],
  timeoutSeconds: number,
): Promise<FrozenRun & { raw: string }> {
  const script = ['sh', '-c', FREEZE_SCRIPT, 'freeze', String(port), String(timeoutSeconds), ...argv];
  const result = await ctx.exec(pod, container, script, { timeoutMs: timeoutSeconds * 1000 + 8000 });
  return { ...parseFrozenRun(result.stdout), raw: `${result.stdout}${result.stderr}`.slice(0, 500) };
}

/** A fresh, empty folder in `container` (or a path that does not exist, when the container cannot write). */
export async function emptyFolder(ctx: CheckContext, pod: string, container: string): Promise<string> {
  const path = `/tmp/sidecar-lab-${randomBytes(6).toString('hex')}`;
  await ctx.exec(pod, container, ['mkdir', '-p', path], { timeoutMs: 5000 }).catch(() => undefined);
  return path;
}

/** Removes what `emptyFolder` made (best effort). */
export async function removeFolder(ctx: CheckContext, pod: string, container: string, path: string) {
  await ctx.exec(pod, container, ['rm', '-rf', path], { timeoutMs: 5000 }).catch(() => undefined);
}
