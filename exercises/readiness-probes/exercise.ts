// Exercise 4: readiness probes on both containers of the logging Pod (seed section 8, best practices).
import { containersPresent, fail, pass, podExists, withPod } from '../checks/common.ts';
import {
  containerEvidence,
  describeProbeSpec,
  describeState,
  findContainer,
  podEvidence,
  podReady,
  stuckExplanation,
} from '../checks/pods.ts';
import { type CheckDefinitionInput, defineExercise, type Pod } from '../model.ts';
import { probeHadItsChance } from '../settle.ts';

const POD = 'logging-sidecar-example';
const CONTAINERS = ['main-app', 'log-collector'] as const;

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
  goal: `Start from the logging Pod \`${POD}\` (main-app runs nginx, log-collector tails its access log) and give
**both** containers a \`readinessProbe\`:

- main-app is ready when nginx answers HTTP on port 80;
- log-collector is ready when it can do its job, e.g. when the access log it ships exists.

Both containers, and so the Pod, must become Ready (\`kubectl get pod ${POD}\` shows 2/2).`,
  hints: [
    'A readinessProbe sits inside a container, next to image and command.',
    'For nginx, an httpGet probe on path / and port 80 is enough.',
    'For the collector, an exec probe works: `command: ["test", "-f", "/var/log/nginx/access.log"]`.',
    '`kubectl describe pod logging-sidecar-example` shows failing probes under Events.',
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
  ],
});
