// HTTP requests made by the checker from inside a learner's container (exec), since checks never run their own Pods.
import type { CheckContext, ExecResult } from '../model.ts';

/** What came back from one request. */
export interface HttpProbe {
  /** Container the request was sent from. */
  container: string;
  /** The tool found in that container: busybox/GNU wget, or bash's /dev/tcp. */
  tool: 'wget' | 'bash' | 'none';
  url: string;
  /** HTTP status; undefined when no response came (refused, timed out). */
  status: number | undefined;
  body: string;
  /** Why there was no response, in plain words. */
  error: string | undefined;
}

// Prefer wget (busybox has it); fall back to bash's /dev/tcp (the nginx image has bash but no wget or curl). The
// tool is announced on stderr so the result says how the request was made.
const SCRIPT = `h=$1; p=$2; u=$3; url=$4
t=""; if command -v timeout >/dev/null 2>&1; then t="timeout 4"; fi
if command -v wget >/dev/null 2>&1; then
  echo "probe-tool=wget" >&2
  exec $t wget -q -O - "$url"
elif command -v bash >/dev/null 2>&1; then
  echo "probe-tool=bash" >&2
  exec $t bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 7
printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" "$2" "$0" >&3
cat <&3' "$h" "$p" "$u"
else
  echo "probe-tool=none" >&2
  exit 127
fi`;

const MAX_BODY = 4000;

function interpret(container: string, url: string, result: ExecResult): HttpProbe {
  const tool = /probe-tool=(wget|bash|none)/.exec(result.stderr)?.[1] as HttpProbe['tool'] | undefined;
  const stderr = result.stderr.replace(/probe-tool=\w+\n?/, '').trim();
  const base = { container, url, tool: tool ?? 'none' } as const;
  if (result.exitCode === null) {
    return { ...base, status: undefined, body: '', error: result.timedOut ? 'no answer in time' : stderr };
  }
  if (tool === 'bash') {
    const [head = '', ...rest] = result.stdout.split(/\r?\n\r?\n/);
    const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head)?.[1]) || undefined;
    const error = status ? undefined : /refused/i.test(stderr) ? 'connection refused' : stderr || 'no HTTP answer';
    return { ...base, status, body: rest.join('\n\n').slice(0, MAX_BODY), error };
  }
  if (result.exitCode === 0) return { ...base, status: 200, body: result.stdout.slice(0, MAX_BODY), error: undefined };
  const status = Number(/HTTP\/\d(?:\.\d)? (\d{3})/.exec(stderr)?.[1]) || undefined;
  let error: string | undefined;
  if (!status) {
    if (/refused/i.test(stderr)) error = 'connection refused';
    else if (result.exitCode === 124 || result.exitCode === 143) error = 'no answer in time';
    else error = stderr || `exit code ${result.exitCode}`;
  }
  return { ...base, status, body: result.stdout.slice(0, MAX_BODY), error };
}

/**
 * GET `http://host:port/path` from the first of `containers` that can make a request (has wget or bash and is
 * running). All containers of a Pod share its network, so any of them sees the same localhost and Pod IP.
 */
export async function httpGet(
  ctx: CheckContext,
  pod: string,
  containers: readonly string[],
  target: { host: string; port: number; path: string },
): Promise<HttpProbe> {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host; // an IPv6 Pod IP needs brackets
  const url = `http://${host}:${target.port}${target.path}`;
  let last: HttpProbe | undefined;
  for (const container of containers) {
    const argv = ['sh', '-c', SCRIPT, 'probe', target.host, String(target.port), target.path, url];
    const result = await ctx.exec(pod, container, argv, { timeoutMs: 6000 });
    const probe = interpret(container, url, result);
    // Try the next container when this one cannot run the probe at all (no shell, no tool, not running).
    const unusable = probe.tool === 'none' || (result.exitCode === null && !result.timedOut) || result.exitCode === 126;
    if (!unusable) return probe;
    last = probe;
  }
  return (
    last ?? { container: '', tool: 'none', url, status: undefined, body: '', error: 'no container to send it from' }
  );
}

/** "answered 404", "refused the connection", … for messages. */
export function describeProbe(probe: HttpProbe): string {
  if (probe.tool === 'none') return `could not be sent (no running container with wget or bash): ${probe.error ?? ''}`;
  if (probe.status !== undefined) return `answered HTTP ${probe.status}`;
  return probe.error === 'connection refused' ? 'was refused: nothing listens there' : `got no answer (${probe.error})`;
}

/** The probe as evidence (body shortened). */
export function probeEvidence(probe: HttpProbe) {
  return { ...probe, body: probe.body.length > 500 ? `${probe.body.slice(0, 500)}…` : probe.body };
}
