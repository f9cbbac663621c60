// Checks for a metrics sidecar: an exporter that turns nginx's stub_status into a Prometheus counter on its own port.
import { randomBytes, randomInt } from 'node:crypto';
import type { CheckContext, CheckDefinitionInput } from '../model.ts';
import { fail, pass, withPod } from './common.ts';
import { describeProbe, type HttpProbe, httpGet, probeEvidence } from './http.ts';
import { inspectPort, isLoopback } from './sockets.ts';

/** Where the exercise's nginx, the exporter and its metric are; the goal names every one of these. */
export interface MetricsTarget {
  pod: string;
  main: string;
  exporter: string;
  /** The exporter's port and path, e.g. 9113 and "/metrics". */
  port: number;
  path: string;
  /** The counter's name, e.g. "nginx_http_requests_total". */
  metric: string;
  /** nginx's stub_status as the starter configures it (loopback only), e.g. 8080 and "/nginx_status". */
  statusPort: number;
  statusPath: string;
}

/**
 * The value of `metric` in Prometheus text format: the sum of its series (a learner may add labels), or undefined
 * when no sample line of that name with a finite number is there. Comments (# HELP, # TYPE) are skipped.
 */
export function metricValue(text: string, metric: string): number | undefined {
  let sum: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
    if (match?.[1] !== metric) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

/** The total request count from nginx's stub_status page ("server accepts handled requests" / "a b c"). */
export function stubStatusRequests(text: string): number | undefined {
  const match = /server accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+)/.exec(text);
  return match?.[3] === undefined ? undefined : Number(match[3]);
}

/** GETs the exporter's metrics through the Pod's IP, as Prometheus would, from inside the Pod. */
function scrape(ctx: CheckContext, t: MetricsTarget, ip: string): Promise<HttpProbe> {
  return httpGet(ctx, t.pod, [t.exporter, t.main], { host: ip, port: t.port, path: t.path });
}

/** The first lines of a body, for messages. */
const firstLines = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, 3)
    .join(' | ')
    .slice(0, 200);

/** Check `nginx-status-page`: nginx answers its stub_status page on loopback, as the starter configures it. */
export function nginxStatusPage(t: MetricsTarget, requires: string[]): CheckDefinitionInput {
  const url = `http://127.0.0.1:${t.statusPort}${t.statusPath}`;
  return {
    id: 'nginx-status-page',
    title: `nginx in ${t.main} answers its status page at ${url}`,
    hint: `Keep the starter's ConfigMap mounted in ${t.main} at /etc/nginx/conf.d/status.conf: it turns on nginx's stub_status at ${url}.`,
    requires,
    run: withPod(t.pod, async (_p, ctx) => {
      const probe = await httpGet(ctx, t.pod, [t.main, t.exporter], {
        host: '127.0.0.1',
        port: t.statusPort,
        path: t.statusPath,
      });
      const evidence = { probe: probeEvidence(probe) };
      const requests = stubStatusRequests(probe.body);
      if (probe.status === 200 && requests !== undefined) {
        return pass(`nginx's status page says it has handled ${requests} requests.`, evidence);
      }
      const what =
        probe.status === undefined ? describeProbe(probe) : `answered HTTP ${probe.status}: ${firstLines(probe.body)}`;
      return fail(`Inside the Pod, ${url} ${what}; it should be nginx's stub_status page.`, evidence);
    }),
  };
}

/** Check `exporter-listens`: the exporter's own processes hold the port, on an address other Pods can reach. */
export function exporterListens(t: MetricsTarget, requires: string[]): CheckDefinitionInput {
  return {
    id: 'exporter-listens',
    title: `${t.exporter} listens on port ${t.port} on the Pod's IP`,
    hint: `Start a server in ${t.exporter} on port ${t.port} on every address (busybox: \`httpd -f -p ${t.port}\`, or \`nc -ll -p ${t.port} -e …\`), not on 127.0.0.1 only.`,
    requires,
    timeoutMs: 15_000,
    run: withPod(t.pod, async (_p, ctx) => {
      // A server that re-opens its socket per connection may be between two; look a few times.
      let seen = await inspectPort(ctx, t.pod, t.exporter, t.port);
      const open = (s: typeof seen) => s.ownedByContainer === true && s.listeners.some((l) => !isLoopback(l.address));
      if (!open(seen)) {
        const again = await ctx.waitFor(
          async () => {
            seen = await inspectPort(ctx, t.pod, t.exporter, t.port);
            return open(seen);
          },
          { timeoutMs: 6000, intervalMs: 1000 },
        );
        if (!again.ok) return fail(listenProblem(t, seen), { listeners: seen.listeners, proc: seen.raw });
      }
      return pass(`${t.exporter} listens on port ${t.port}.`, { listeners: seen.listeners });
    }),
  };
}

function listenProblem(t: MetricsTarget, seen: Awaited<ReturnType<typeof inspectPort>>): string {
  if (seen.ownedByContainer === undefined) {
    return `The checker could not read ${t.exporter}'s processes (${seen.raw.stderr || `exit code ${seen.raw.exitCode}`}).`;
  }
  if (seen.listeners.length === 0) return `Nothing listens on port ${t.port} in the Pod; ${t.exporter} should.`;
  if (!seen.ownedByContainer) {
    return `Something listens on port ${t.port}, but not a process of ${t.exporter}: another container holds the port.`;
  }
  const where = seen.listeners.map((l) => `${l.address}:${t.port}`).join(', ');
  return `Port ${t.port} is only open on ${where}, which Prometheus (another Pod) cannot reach; listen on every address.`;
}

/** Check `metrics-served`: the Pod's IP answers the path with a sample line of the metric. */
export function metricsServed(t: MetricsTarget, requires: string[]): CheckDefinitionInput {
  return {
    id: 'metrics-served',
    title: `http://<pod IP>:${t.port}${t.path} has a line "${t.metric} <number>"`,
    hint: `Answer ${t.path} with Prometheus text: a line \`${t.metric} 42\` (the name, a space, the number); \`# HELP\`/\`# TYPE\` lines may come before it.`,
    requires,
    timeoutMs: 20_000,
    run: withPod(t.pod, async (p, ctx) => {
      const ip = p.status.podIP;
      if (!ip) return fail('The Pod has no IP address yet.');
      let probe: HttpProbe | undefined;
      // An exporter that writes its first file a moment after its server starts is given that moment.
      await ctx.waitFor(
        async () => {
          probe = await scrape(ctx, t, ip);
          return probe.status === 200 && metricValue(probe.body, t.metric) !== undefined;
        },
        { timeoutMs: 10_000, intervalMs: 1000 },
      );
      if (!probe) return fail('The checker could not send a request.');
      const evidence = { probe: probeEvidence(probe) };
      const value = metricValue(probe.body, t.metric);
      if (probe.status === 200 && value !== undefined) return pass(`${probe.url} says ${t.metric} ${value}.`, evidence);
      if (probe.status !== 200) return fail(`${probe.url} ${describeProbe(probe)}.`, evidence);
      return fail(
        `${probe.url} answers, but has no line "${t.metric} <number>" (it starts: ${firstLines(probe.body) || 'empty'}).`,
        evidence,
      );
    }),
  };
}

// Enough requests that an exporter counting its own scrapes (at most one per poll below) or seconds cannot keep up.
const MIN_REQUESTS = 25;
const MAX_REQUESTS = 50;
const POLL = { timeoutMs: 15_000, intervalMs: 2000 } as const;

// Sends n requests to nginx on port 80 over loopback from main-app (the nginx image has bash, no wget) and prints
// how many were answered: the checker's traffic, which only the checker knows the size of.
const TRAFFIC = `n=$1; tag=$2; ok=0; i=0
while [ "$i" -lt "$n" ]; do
  i=$((i + 1))
  exec 3<>/dev/tcp/127.0.0.1/80 || continue
  printf 'GET /?sidecar-lab-traffic=%s-%s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' "$tag" "$i" >&3
  head -c 12 <&3 | grep -q '^HTTP/1' && ok=$((ok + 1))
  exec 3<&-
done
echo "answered=$ok"`;

/** Check `counter-counts-requests`: the counter rises by the checker's traffic and never exceeds nginx's own count. */
export function counterCountsRequests(t: MetricsTarget, requires: string[]): CheckDefinitionInput {
  return {
    id: 'counter-counts-requests',
    title: `${t.metric} rises with every request nginx handles`,
    hint: `Read nginx's count from http://127.0.0.1:${t.statusPort}${t.statusPath} (the third number on the third line is the total of requests) each time, or every few seconds, and export that number.`,
    requires,
    timeoutMs: 60_000,
    run: withPod(t.pod, async (p, ctx) => {
      const ip = p.status.podIP ?? '';
      // A one-shot `nc -l` loop is not listening for a moment after each answer: give the first read a few tries.
      let before: HttpProbe | undefined;
      await ctx.waitFor(
        async () => {
          before = await scrape(ctx, t, ip);
          return metricValue(before.body, t.metric) !== undefined;
        },
        { timeoutMs: 5000, intervalMs: 500 },
      );
      const start = before && metricValue(before.body, t.metric);
      if (!before || start === undefined) {
        return fail(`http://${ip}:${t.port}${t.path} no longer has ${t.metric}.`, {
          before: before && probeEvidence(before),
        });
      }
      const sent = randomInt(MIN_REQUESTS, MAX_REQUESTS + 1);
      const tag = randomBytes(4).toString('hex');
      const traffic = await ctx.exec(t.pod, t.main, ['bash', '-c', TRAFFIC, 'traffic', String(sent), tag], {
        timeoutMs: 30_000,
      });
      const answered = Number(/answered=(\d+)/.exec(traffic.stdout)?.[1] ?? Number.NaN);
      if (answered !== sent) {
        const why = traffic.stderr.trim().slice(0, 200) || `exit code ${traffic.exitCode}`;
        return fail(`nginx in ${t.main} did not answer the checker's requests on port 80 (${why}).`, { traffic });
      }
      let after: HttpProbe = before;
      let value: number | undefined = start;
      const rose = await ctx.waitFor(async () => {
        after = await scrape(ctx, t, ip);
        value = metricValue(after.body, t.metric);
        return value !== undefined && value - start >= sent;
      }, POLL);
      const status = await httpGet(ctx, t.pod, [t.main, t.exporter], {
        host: '127.0.0.1',
        port: t.statusPort,
        path: t.statusPath,
      });
      const nginxCount = stubStatusRequests(status.body);
      const evidence = { sent, start, value, nginxCount, after: probeEvidence(after) };
      if (!rose.ok) {
        const rise = value === undefined ? 'disappeared' : `went from ${start} to ${value}`;
        return fail(
          `The checker sent nginx ${sent} requests; within ${POLL.timeoutMs / 1000} s ${t.metric} ${rise}. It should rise by at least ${sent}: export nginx's own request count, read again each time.`,
          evidence,
        );
      }
      if (nginxCount === undefined) {
        return fail(
          `After the checker's requests, nginx's status page (http://127.0.0.1:${t.statusPort}${t.statusPath}) ${describeProbe(status)}: the counter cannot be compared with nginx's own count.`,
          { ...evidence, status: probeEvidence(status) },
        );
      }
      if (value !== undefined && value > nginxCount) {
        return fail(
          `${t.metric} is ${value}, but nginx has handled only ${nginxCount} requests so far: the counter must be nginx's count, not one of its own.`,
          evidence,
        );
      }
      return pass(`After ${sent} requests from the checker, ${t.metric} went from ${start} to ${value}.`, evidence);
    }),
  };
}
