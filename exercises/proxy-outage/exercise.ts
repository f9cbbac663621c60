// Exercise: a proxy sidecar whose outage takes the Pod out of service without restarting the healthy main-app.
//
// The checker causes the outage at check time: it freezes every process of the proxy container but its first (as a
// hung nginx worker would be: connections are accepted by the kernel and never answered), proves that port 80 no
// longer answers, and watches the Pod's Ready condition, which is what Services use to pick endpoints. It holds the
// freeze at least as long as a liveness probe on main-app would need to fire, so a probe that goes through the proxy
// and restarts main-app is caught; then it thaws the proxy and waits for the Pod to be Ready again.
//
// A liveness probe with a one-second timeout can fail on a busy node for reasons of its own, and stop main-app while
// the proxy happens to be frozen. So a stop during the hang is held against the solution only when it happens again
// in a second hang (or when the probe plainly asks the proxy's port): a probe that goes through the proxy stops
// main-app every time.
import { containersPresent, containersRunning, fail, pass, podExists, withPod } from '../checks/common.ts';
import { describeProbe, httpGet, probeEvidence } from '../checks/http.ts';
import { findContainer, podEvidence, podReady } from '../checks/pods.ts';
import { seconds } from '../checks/timing.ts';
import { plantFiles, removePlanted } from '../checks/web-root.ts';
import { type CheckContext, type CheckOutcome, defineExercise, type Pod } from '../model.ts';

const POD = 'guarded-proxy';
const MAIN = 'main-app';
const PROXY = 'proxy';
const PROXY_PORT = 80;
/** The goal's promises, and the checker's patience: a little more than promised, for the API's reporting lag. */
const NOT_READY_WITHIN_S = 20;
const READY_AGAIN_WITHIN_S = 30;
const SLACK_MS = 5000;
/** The longest the proxy stays frozen; the thaw the freeze script schedules itself comes a little later. */
const MAX_FREEZE_S = 90;

// Freezes every process of the container except PID 1 and this shell; a background thaw undoes it even if the
// checker goes away. Prints the frozen pids. Processes of other containers (visible with shareProcessNamespace) are
// left alone: they are in another cgroup than this shell.
const FREEZE = `pids=""
me=$(cat /proc/$$/cgroup)
for d in /proc/[0-9]*; do
  p=\${d#/proc/}
  case "$p" in 1|$$) continue ;; esac
  [ "$(cat "$d/cgroup" 2>/dev/null)" = "$me" ] || continue
  pids="$pids $p"
done
[ -n "$pids" ] || { echo "frozen="; exit 0; }
(sleep "$1"; kill -CONT $pids) >/dev/null 2>&1 &
kill -STOP $pids
echo "frozen=$pids"`;

/** Polls the Pod until its Ready condition is `ready`; resolves as `ctx.waitFor` does, with the Pod seen last. */
const waitForReadiness = (ctx: CheckContext, ready: boolean, timeoutMs: number) =>
  ctx.waitFor(
    async () => {
      const pod = await ctx.getPod(POD);
      return pod && podReady(pod) === ready ? pod : false;
    },
    { timeoutMs, intervalMs: 500 },
  );

/** Which run of main-app this is: a stop or a restart changes it, even before the restart count moves. */
function mainInstance(pod: Pod): string {
  const status = findContainer(pod, MAIN)?.status;
  return `${status?.restartCount ?? 0}/${status?.state.running?.startedAt ?? 'not running'}`;
}

const mainRestarts = (pod: Pod) => findContainer(pod, MAIN)?.status?.restartCount ?? 0;

/** True when main-app's liveness probe is an HTTP request to the proxy's port (by number or by a named port). */
function livenessAsksProxyPort(pod: Pod): boolean {
  const main = findContainer(pod, MAIN)?.spec;
  const port = main?.livenessProbe?.httpGet?.port;
  if (typeof port === 'number') return port === PROXY_PORT;
  return main?.ports.some((p) => p.name === port && p.containerPort === PROXY_PORT) ?? false;
}

type Evidence = Record<string, unknown>;
/** One hang of the proxy: a verdict already (`failed`), main-app left running (`held`), or main-app `stopped`. */
type HangTrial =
  | { kind: 'failed'; outcome: CheckOutcome }
  | { kind: 'held'; notReadyAfterMs: number; watchedMs: number; evidence: Evidence }
  | { kind: 'stopped'; pod: Pod; restarts: [number, number]; evidence: Evidence };

const heldMessage = (t: Extract<HangTrial, { kind: 'held' }>) =>
  `While the proxy hung, the Pod became not Ready after ${seconds(t.notReadyAfterMs)} and main-app was not restarted (watched for ${seconds(t.watchedMs)}).`;

const stoppedMessage = (t: Extract<HangTrial, { kind: 'stopped' }>) =>
  `While the proxy hung, main-app was stopped or restarted (restart count ${t.restarts[0]} → ${t.restarts[1]}), although it was healthy.`;

/**
 * Freezes the proxy, proves port 80 no longer answers, waits for the Pod to leave Ready, and holds the freeze as long
 * as a liveness probe on main-app would need to stop it; always thaws before it returns.
 */
async function hangTrial(ctx: CheckContext, before: Pod): Promise<HangTrial> {
  const failed = (message: string, evidence: Evidence): HangTrial => ({
    kind: 'failed',
    outcome: fail(message, evidence),
  });
  const instanceBefore = mainInstance(before);
  const frozenAt = Date.now();
  const run = await ctx.exec(POD, PROXY, ['sh', '-c', FREEZE, 'freeze', String(MAX_FREEZE_S + 15)], {
    timeoutMs: 10_000,
  });
  const pids = (/^frozen=(.*)$/m.exec(run.stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const evidence: Evidence = { frozen: pids, freeze: `${run.stdout}${run.stderr}`.slice(0, 300) };
  try {
    if (!pids.length) {
      return failed(
        'The checker could not make the proxy hang: nothing but the first process runs in the proxy container. Run the proxy as nginx does, with worker processes.',
        evidence,
      );
    }
    const probe = await httpGet(ctx, POD, [MAIN], { host: '127.0.0.1', port: PROXY_PORT, path: '/' });
    evidence.duringHang = probeEvidence(probe);
    if (probe.status !== undefined) {
      return failed(
        `The checker froze the proxy's processes but port ${PROXY_PORT} still answered HTTP ${probe.status}: something other than the frozen proxy serves it.`,
        evidence,
      );
    }
    const notReady = await waitForReadiness(ctx, false, NOT_READY_WITHIN_S * 1000 + SLACK_MS);
    const notReadyAfterMs = Date.now() - frozenAt;
    evidence.notReadyAfter = seconds(notReadyAfterMs);
    if (!notReady.ok) {
      const pod = await ctx.getPod(POD);
      evidence.pod = pod && podEvidence(pod);
      return failed(
        `The proxy hung for ${seconds(notReadyAfterMs)} (port ${PROXY_PORT} gave no answer), but the Pod stayed Ready, so a Service would still send it traffic. A readiness probe must notice that port ${PROXY_PORT} does not answer HTTP within ${NOT_READY_WITHIN_S} s.`,
        evidence,
      );
    }
    // Keep the proxy hung as long as a liveness probe on main-app would need to stop it.
    const holdUntil = Math.max(Date.now() + 3000, frozenAt + livenessWindowMs(notReady.value));
    await ctx.sleep(holdUntil - Date.now());
    const during = await ctx.getPod(POD);
    if (!during) return failed(`The Pod "${POD}" disappeared while the proxy hung; create it again.`, evidence);
    evidence.pod = podEvidence(during);
    if (mainInstance(during) !== instanceBefore) {
      return { kind: 'stopped', pod: during, restarts: [mainRestarts(before), mainRestarts(during)], evidence };
    }
    return { kind: 'held', notReadyAfterMs, watchedMs: Date.now() - frozenAt, evidence };
  } finally {
    await thaw(ctx, pids);
  }
}

/**
 * How long a liveness probe on main-app needs to get it restarted once its handler fails, capped at MAX_FREEZE_S:
 * the failures, then the stop (a process that ignores SIGTERM, as busybox httpd does as PID 1, is killed only after
 * the grace period), and only then does the restart count go up.
 */
function livenessWindowMs(pod: Pod): number {
  const probe = findContainer(pod, MAIN)?.spec.livenessProbe;
  if (!probe) return 0;
  // One period more than the threshold: the first failing probe may come a whole period after the hang began.
  const failing = (probe.periodSeconds ?? 10) * ((probe.failureThreshold ?? 3) + 1) + (probe.timeoutSeconds ?? 1);
  const window = failing + (pod.spec.terminationGracePeriodSeconds ?? 30) + 10;
  return Math.min(window, MAX_FREEZE_S) * 1000;
}

async function thaw(ctx: CheckContext, pids: readonly string[]) {
  if (!pids.length) return;
  await ctx
    .exec(POD, PROXY, ['sh', '-c', 'kill -CONT "$@"', 'thaw', ...pids], { timeoutMs: 5000 })
    .catch(() => undefined);
}

export default defineExercise({
  id: 'proxy-outage',
  title: 'When the proxy goes down',
  goal: `Create a Pod named \`${POD}\` with two containers:

- \`${MAIN}\` serves HTTP on port **8080** (busybox: \`httpd -f -p 8080 -h /www\` with a page in /www);
- \`${PROXY}\` listens on port **80** and forwards every request to \`localhost:8080\` (nginx with \`proxy_pass\`). It
  may be an ordinary container or a native sidecar.

Clients reach the Pod only through the proxy. When the proxy **hangs** — it still accepts connections but never
answers — the Pod must stop being **Ready** within ${NOT_READY_WITHIN_S} seconds, so Services stop sending it
traffic, and \`${MAIN}\` must **not be restarted** (it is healthy; the fault is the proxy's). When the proxy answers
again, the Pod must be Ready again within ${READY_AGAIN_WITHIN_S} seconds.

The checker makes the proxy hang: it freezes every process in the proxy container except the first (nginx's
workers, which answer requests) for up to 90 seconds, then lets them go. If \`${MAIN}\` is restarted during the hang,
the checker makes the proxy hang a second time before it fails the check: a probe that timed out once on a busy node
is not held against you, one that goes through the proxy restarts \`${MAIN}\` every time.`,
  hints: [
    'A Service sends traffic only to Pods that are Ready, and a readiness probe is what makes a running container not Ready.',
    "A probe that only opens a TCP connection is fooled by a hung proxy: the kernel accepts the connection even when nginx never answers. The probe has to make an HTTP request through port 80 (httpGet, or an exec probe with a timeout: `timeout 2 wget -qO- http://127.0.0.1/` — busybox's own `wget -T` crashes in this lab's image).",
    "A liveness probe on main-app that goes through port 80 restarts main-app for the proxy's fault. Leave main-app's liveness (if any) on port 8080.",
    'One answer: give the proxy `readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 1}` and remove the liveness probe that main-app has in the starter.',
  ],
  equivalentMutants: [
    {
      id: 'to-native:proxy',
      why: "the goal allows the proxy to be a native sidecar; its readiness counts in the Pod's the same",
    },
    {
      id: 'to-container:proxy@accepted/native-proxy-own-liveness',
      why: "the goal allows the proxy to be an ordinary container, as the reference solution's is",
    },
    {
      id: 'probe-true:main-app:livenessProbe@accepted/native-proxy-own-liveness',
      why: 'the goal asks for no liveness probe on main-app; one that always passes never restarts it',
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'containers-present',
      'The Pod has "main-app" and "proxy"',
      [{ name: MAIN, nativeAllowed: false, role: 'the application' }, { name: PROXY }],
      'Name the containers exactly "main-app" and "proxy".',
    ),
    containersRunning(POD, [MAIN, PROXY], { requires: ['containers-present'] }),
    {
      id: 'proxy-forwards',
      title: "Port 80 on the Pod's IP forwards to main-app on port 8080",
      hint: 'The proxy listens on port 80 (all addresses) and forwards to http://127.0.0.1:8080.',
      requires: ['containers-running'],
      timeoutMs: 30_000,
      run: withPod(POD, async (pod, ctx) => {
        const ip = pod.status.podIP;
        if (!ip) return fail('The Pod has no IP address yet.');
        const from = [MAIN, PROXY];
        const direct = await httpGet(ctx, POD, from, { host: '127.0.0.1', port: 8080, path: '/' });
        const through = await httpGet(ctx, POD, from, { host: ip, port: 80, path: '/' });
        const evidence = { direct: probeEvidence(direct), through: probeEvidence(through) };
        if (direct.status !== 200 || !direct.body.trim()) {
          return fail(
            `main-app should serve a page on port 8080, but http://127.0.0.1:8080/ ${describeProbe(direct)}.`,
            evidence,
          );
        }
        if (through.status !== 200 || through.body !== direct.body) {
          const answer = through.status === undefined ? describeProbe(through) : `answered HTTP ${through.status}`;
          return fail(
            `http://${ip}:80/ ${answer}${through.status === 200 ? " with a page other than main-app's" : ''}; the proxy should return main-app's page from port 8080.`,
            evidence,
          );
        }
        // A proxy with its own copy of the page would pass so far: only main-app can serve a file written just now.
        const planted = await plantFiles(ctx, POD, MAIN, 8080);
        if (!planted.ok) {
          return fail(
            `The checker writes a fresh file into the folder main-app serves to see that requests reach it, but found no such folder it could write to${planted.tried.length ? ` (tried ${planted.tried.join(', ')})` : ''}. Serve the page from a folder the command creates, e.g. /www.`,
            { ...evidence, tried: planted.tried },
          );
        }
        try {
          const file = planted.files[0];
          const fetched = file && (await httpGet(ctx, POD, from, { host: ip, port: 80, path: file.path }));
          const more = { ...evidence, root: planted.root, fetched: fetched && probeEvidence(fetched) };
          if (!file || !fetched || fetched.status !== 200 || !fetched.body.includes(file.content)) {
            return fail(
              `main-app serves a file the checker just wrote into ${planted.root}, but port 80 does not return it: the proxy answers on its own instead of forwarding to main-app.`,
              more,
            );
          }
          return pass(`Port 80 returns main-app's page and a file written into ${planted.root} just now.`, more);
        } finally {
          await removePlanted(ctx, POD, MAIN, planted.root, planted.files);
        }
      }),
    },
    {
      id: 'pod-ready',
      title: 'The Pod is Ready while the proxy works',
      hint: '`kubectl describe pod guarded-proxy` shows which probe fails; a probe must pass while the proxy answers.',
      requires: ['proxy-forwards'],
      timeoutMs: 40_000,
      async run(ctx) {
        const waited = await waitForReadiness(ctx, true, 35_000);
        if (waited.ok) return pass('The Pod is Ready.', { pod: podEvidence(waited.value) });
        const pod = await ctx.getPod(POD);
        return fail(
          'The Pod did not become Ready within 35 s although the proxy answers; a readiness probe must pass while the proxy works.',
          pod ? { pod: podEvidence(pod) } : {},
        );
      },
    },
    {
      id: 'proxy-hang-handled',
      title: 'While the proxy hangs, the Pod is not Ready and main-app is not restarted',
      hint: 'Give the Pod a readiness probe that makes an HTTP request through port 80, and no liveness probe on main-app that does.',
      requires: ['pod-ready'],
      // Two hangs of up to MAX_FREEZE_S each and a recovery between them, when main-app is stopped during the first.
      timeoutMs: 240_000,
      run: withPod(POD, async (before, ctx) => {
        const first = await hangTrial(ctx, before);
        if (first.kind === 'failed') return first.outcome;
        if (first.kind === 'held') return pass(heldMessage(first), first.evidence);
        if (livenessAsksProxyPort(first.pod)) {
          return fail(
            `${stoppedMessage(first)} Its liveness probe asks port ${PROXY_PORT}, which is the proxy: a hung proxy restarts the healthy main-app.`,
            first.evidence,
          );
        }
        // A stop the proxy did not cause (a probe that timed out on a busy node) does not come back on a second hang.
        const recovered = await waitForReadiness(ctx, true, READY_AGAIN_WITHIN_S * 1000 + SLACK_MS);
        if (!recovered.ok) {
          return fail(
            `${stoppedMessage(first)} The Pod was still not Ready ${READY_AGAIN_WITHIN_S} s after the proxy answered again.`,
            first.evidence,
          );
        }
        const second = await hangTrial(ctx, recovered.value);
        const evidence = {
          firstHang: first.evidence,
          secondHang: second.kind === 'failed' ? second.outcome.evidence : second.evidence,
        };
        if (second.kind === 'failed') return { ...second.outcome, evidence };
        if (second.kind === 'stopped') {
          return fail(
            `${stoppedMessage(first)} It happened again when the checker made the proxy hang a second time (restart count ${second.restarts[0]} → ${second.restarts[1]}): a liveness probe that goes through the proxy restarts main-app for the proxy's fault.`,
            evidence,
          );
        }
        return pass(
          `${heldMessage(second)} main-app was stopped once during a first hang but not during this second one, so the proxy was not the cause (a probe can time out on a busy node).`,
          evidence,
        );
      }),
    },
    {
      id: 'ready-again',
      title: 'When the proxy answers again, the Pod is Ready again and main-app keeps running',
      hint: 'The readiness probe must pass again once port 80 answers: probe the proxy as it is now, not a memory of an earlier failure.',
      requires: ['proxy-hang-handled'],
      timeoutMs: 60_000,
      run: withPod(POD, async (thawed, ctx) => {
        const waited = await waitForReadiness(ctx, true, READY_AGAIN_WITHIN_S * 1000 + SLACK_MS);
        const pod = waited.ok ? waited.value : await ctx.getPod(POD);
        if (!pod) return fail(`The Pod "${POD}" is gone; create it again.`);
        const evidence = { pod: podEvidence(pod) };
        if (!waited.ok) {
          return fail(
            `The proxy answers again, but the Pod was still not Ready after ${READY_AGAIN_WITHIN_S} s: it stays out of its Services.`,
            evidence,
          );
        }
        if (mainInstance(pod) !== mainInstance(thawed)) {
          return fail(
            `main-app was restarted while the Pod recovered (restart count ${mainRestarts(thawed)} → ${mainRestarts(pod)}); it should keep running.`,
            evidence,
          );
        }
        return pass('The Pod is Ready again and main-app kept running.', evidence);
      }),
    },
  ],
});
