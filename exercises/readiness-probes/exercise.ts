// Exercise: readiness probes on both containers of the logging Pod (seed section 8, best practices).
//
// A probe that is present and passing can still prove nothing (`exec: ["true"]`, or a collector probe on nginx's
// port). So the checker runs each probe's action itself where it must fail: main-app's exec probe while nginx's
// workers are frozen for a moment (a network probe must ask port 80, which main-app's own process holds), and
// log-collector's exec probe with the access log's folder swapped for an empty one. And the collector must still
// collect: a request to nginx must reach its log.
import { posix } from 'node:path';
import { containersPresent, fail, pass, podExists, withPod } from '../checks/common.ts';
import { accessLogInCollector, requestReachesCollector } from '../checks/logging.ts';
import {
  containerEvidence,
  describeProbeSpec,
  describeState,
  findContainer,
  podEvidence,
  podReady,
  stuckExplanation,
} from '../checks/pods.ts';
import {
  emptyFolder,
  pointPathsAt,
  probePort,
  removeFolder,
  runProbeCommand,
  runWhileFrozen,
} from '../checks/probe-behaviour.ts';
import { inspectPort } from '../checks/sockets.ts';
import { type CheckDefinitionInput, defineExercise, type Pod } from '../model.ts';
import { probeHadItsChance } from '../settle.ts';

const POD = 'readiness-probes';
const CONTAINERS = ['main-app', 'log-collector'] as const;
const NGINX_PORT = 80;

function hasReadinessProbe(container: string, hint: string): CheckDefinitionInput {
  return {
    id: `${container}-readiness-probe`,
    title: `${container} has a readinessProbe`,
    hint,
    requires: ['containers-present'],
    run: withPod(POD, (pod) => {
      const found = findContainer(pod, container);
      if (!found) return fail(`There is no container "${container}".`);
      const probe = found.spec.readinessProbe;
      const evidence = { container: containerEvidence(found) };
      if (!probe) return fail(`${container} has no readinessProbe.`, evidence);
      if (!probe.httpGet && !probe.exec && !probe.tcpSocket && !probe.grpc) {
        return fail(`${container}'s readinessProbe says nothing to run (httpGet, exec, tcpSocket or grpc).`, evidence);
      }
      return pass(`${container} has a readinessProbe (${describeProbeSpec(probe)}).`, evidence);
    }),
  };
}

/** For each container: undefined when Ready, else why not (and whether waiting longer could change it). */
function readiness(pod: Pod, now: number) {
  return CONTAINERS.map((name) => {
    const found = findContainer(pod, name);
    if (!found) return { name, ready: false, final: true, why: `there is no container "${name}"` };
    if (found.status?.ready) return { name, ready: true, final: true, why: '' };
    const stuck = stuckExplanation(name, found);
    if (stuck) return { name, ready: false, final: true, why: stuck };
    const status = found.status;
    if (!status?.state.running) {
      return { name, ready: false, final: false, why: `${name} is ${describeState(status)}` };
    }
    const probe = found.spec.readinessProbe;
    const final = probe !== undefined && probeHadItsChance(found.spec, status, now);
    const what = probe ? `its readiness probe (${describeProbeSpec(probe)}) keeps failing` : 'it has not become ready';
    return { name, ready: false, final, why: `${name} is running but not Ready: ${what}` };
  });
}

export default defineExercise({
  id: 'readiness-probes',
  title: 'Readiness probes for both containers',
  goal: `Start from the logging Pod (main-app runs nginx, log-collector tails its access log), now named \`${POD}\`, and
give **both** containers a \`readinessProbe\` that tests what it claims to:

- main-app's probe tests nginx itself: an \`httpGet\` or \`tcpSocket\` probe on port 80, or an \`exec\` probe that
  makes a request to port 80. It must fail when nginx does not answer;
- log-collector's probe is an \`exec\` probe that succeeds only while the access log it ships exists in its own
  container, naming the log by its path there (e.g. \`test -f <path>\`). A probe on a port would test nginx, not the
  collector.

Both containers, and so the Pod, must become Ready (\`kubectl get pod ${POD}\` shows 2/2), and log-collector must
still collect: a request to nginx must show up in its log. The checker runs each probe itself to see that it can fail:
main-app's while nginx is frozen for a moment, log-collector's with the log's folder swapped for an empty one. The Pod
and container names are fixed and main-app runs nginx; volume names, mount paths and log-collector's image are up to
you, and log-collector may be a native sidecar.`,
  hints: [
    'A readinessProbe sits inside a container, next to image and command.',
    '`kubectl describe pod readiness-probes` shows failing probes under Events.',
    'For nginx, an httpGet probe on path / and port 80 is enough.',
    'For the collector, an exec probe works: `command: ["test", "-f", "/var/log/nginx/access.log"]` (the path where log-collector mounts the log volume).',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    {
      id: 'to-native:log-collector',
      why: "the goal leaves the collector's kind free; a native sidecar's readiness counts in the Pod's 2/2",
    },
    {
      id: 'swap-image:log-collector',
      why: "the goal fixes main-app's image only; the collector's sh and tail work the same in nginx's image",
    },
    {
      id: 'to-container:log-collector@accepted/tcp-native-tail-f',
      why: 'an ordinary collector container is what the reference solution has',
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'containers-present',
      'The Pod has "main-app" (nginx) and "log-collector"',
      [{ name: 'main-app', image: 'nginx', nativeAllowed: false, role: 'the application' }, { name: 'log-collector' }],
      'Keep the container names of the logging Pod: "main-app" and "log-collector".',
    ),
    hasReadinessProbe('main-app', 'Add readinessProbe: {httpGet: {path: /, port: 80}} to main-app.'),
    hasReadinessProbe(
      'log-collector',
      'Add a readinessProbe to log-collector too; an exec probe that tests for the log file works.',
    ),
    {
      id: 'containers-ready',
      title: 'Both containers are Ready',
      hint: 'A probe must succeed to make its container Ready: check the port, path or command it uses.',
      requires: ['main-app-readiness-probe', 'log-collector-readiness-probe'],
      timeoutMs: 30_000,
      run: withPod(POD, async (first, ctx) => {
        let pod = first;
        let states = readiness(pod, Date.now());
        // Wait while a container may still become ready; stop once every probe has had its chance to report.
        await ctx.waitFor(
          async () => {
            pod = (await ctx.getPod(POD)) ?? pod;
            states = readiness(pod, Date.now());
            return states.every((s) => s.ready || s.final);
          },
          { timeoutMs: 28_000, intervalMs: 500 },
        );
        const evidence = { pod: podEvidence(pod) };
        const notReady = states.filter((s) => !s.ready);
        if (notReady.length === 0) return pass('main-app and log-collector are both Ready.', evidence);
        return fail(
          `${notReady.map((s) => s.why).join('; ')}. \`kubectl describe pod ${POD}\` shows the probe's errors.`,
          evidence,
        );
      }),
    },
    {
      id: 'pod-ready',
      title: 'The Pod is Ready',
      hint: 'A Pod is Ready when all its containers are; only then does a Service send it traffic.',
      requires: ['containers-ready'],
      run: withPod(POD, (pod) => {
        const condition = pod.status.conditions.find((c) => c.type === 'Ready');
        const evidence = { conditions: pod.status.conditions };
        if (podReady(pod)) return pass('The Pod is Ready: a Service would send it traffic.', evidence);
        return fail(`The Pod is not Ready${condition?.reason ? ` (${condition.reason})` : ''}.`, evidence);
      }),
    },
    {
      id: 'main-app-probe-tests-nginx',
      title: "main-app's probe fails when nginx does not answer on port 80",
      hint: 'Probe nginx itself: `httpGet: {path: /, port: 80}`. An exec probe must make a request to port 80.',
      requires: ['containers-ready'],
      timeoutMs: 20_000,
      run: withPod(POD, async (pod, ctx) => {
        const found = findContainer(pod, 'main-app');
        const probe = found?.spec.readinessProbe;
        if (!found || !probe) return fail('main-app has no readinessProbe.');
        const evidence: Record<string, unknown> = { probe };
        const described = describeProbeSpec(probe);
        if (probe.grpc)
          return fail(`main-app's probe (${described}) speaks gRPC; nginx answers HTTP on port 80.`, evidence);
        if (probe.httpGet || probe.tcpSocket) {
          const port = probePort(found.spec, probe);
          if (port !== NGINX_PORT) {
            return fail(
              `main-app's probe (${described}) asks port ${port ?? 'an unknown named port'}; nginx serves on port 80, so the probe does not test it.`,
              evidence,
            );
          }
          const owner = await inspectPort(ctx, POD, 'main-app', NGINX_PORT);
          evidence.port80 = owner;
          if (owner.ownedByContainer === false) {
            return fail(
              `main-app's probe asks port 80, but another container holds that port, not main-app's nginx.`,
              evidence,
            );
          }
          return pass(
            `main-app's probe (${described}) asks nginx on port 80 itself: it fails when nginx does not answer.`,
            evidence,
          );
        }
        const argv = probe.exec?.command ?? [];
        const timeout = probe.timeoutSeconds ?? 1;
        const normal = await runProbeCommand(ctx, POD, 'main-app', argv, timeout);
        evidence.normalRun = normal;
        if (normal.exitCode !== 0) {
          return fail(
            `main-app's probe (${described}) exits with ${normal.exitCode} when the checker runs it.`,
            evidence,
          );
        }
        const frozen = await runWhileFrozen(ctx, POD, 'main-app', NGINX_PORT, argv, timeout);
        evidence.frozenRun = frozen;
        if (frozen.frozen.length === 0 || frozen.stillAnswered || frozen.exitCode === undefined) {
          // Nothing but PID 1 holds port 80, or freezing did not stop the answers: no verdict on the learner.
          throw new Error(`could not freeze nginx in main-app to test its exec probe: ${frozen.raw}`);
        }
        if (frozen.exitCode === 0) {
          return fail(
            `main-app's probe (${described}) still succeeds while nginx is frozen and answers nothing: it does not test whether nginx answers on port 80.`,
            evidence,
          );
        }
        return pass(
          `main-app's probe (${described}) fails while nginx does not answer, and succeeds when it does.`,
          evidence,
        );
      }),
    },
    {
      id: 'log-collector-probe-tests-log',
      title: "log-collector's probe fails when the access log it ships is missing",
      hint: 'Use an exec probe in log-collector that tests for the access log where log-collector sees it, e.g. `test -f /var/log/nginx/access.log`.',
      requires: ['containers-ready'],
      timeoutMs: 20_000,
      run: withPod(POD, async (pod, ctx) => {
        const main = findContainer(pod, 'main-app');
        const collector = findContainer(pod, 'log-collector');
        const probe = collector?.spec.readinessProbe;
        if (!main || !collector || !probe) return fail('log-collector has no readinessProbe.');
        const described = describeProbeSpec(probe);
        const evidence: Record<string, unknown> = { probe };
        if (!probe.exec) {
          const port = probePort(collector.spec, probe);
          return fail(
            `log-collector's probe (${described}) asks a port${port === NGINX_PORT ? " — nginx's port 80, in main-app" : ''}: it tells whether something answers there, not whether log-collector can ship the access log. Use an exec probe that tests for the log file.`,
            evidence,
          );
        }
        const logPath = accessLogInCollector(main.spec, collector.spec);
        evidence.accessLogInCollector = logPath;
        if (!logPath) {
          return fail(
            "log-collector does not see nginx's access log (no shared volume holds it), so its probe cannot test for it.",
            evidence,
          );
        }
        const argv = probe.exec.command;
        const timeout = probe.timeoutSeconds ?? 1;
        const empty = await emptyFolder(ctx, POD, 'log-collector');
        try {
          const swapped = pointPathsAt(argv, posix.dirname(logPath), empty);
          evidence.swappedCommand = swapped.argv;
          if (!swapped.replaced) {
            return fail(
              `log-collector's probe (${described}) does not look at the access log (${logPath} in log-collector), so it succeeds whether or not there is a log to ship.`,
              evidence,
            );
          }
          const normal = await runProbeCommand(ctx, POD, 'log-collector', argv, timeout);
          const missing = await runProbeCommand(ctx, POD, 'log-collector', swapped.argv, timeout);
          Object.assign(evidence, { normalRun: normal, withoutLog: missing });
          if (normal.exitCode !== 0) {
            return fail(
              `log-collector's probe (${described}) exits with ${normal.exitCode} when the checker runs it.`,
              evidence,
            );
          }
          if (missing.exitCode === 0) {
            return fail(
              `log-collector's probe (${described}) still succeeds when its folder holds no access log (the checker ran it as \`${swapped.argv.join(' ')}\`): it does not test that the log exists.`,
              evidence,
            );
          }
          return pass(
            `log-collector's probe (${described}) succeeds with the access log and fails without it.`,
            evidence,
          );
        } finally {
          await removeFolder(ctx, POD, 'log-collector', empty);
        }
      }),
    },
    requestReachesCollector(POD, 'main-app', 'log-collector', ['containers-ready']),
  ],
});
