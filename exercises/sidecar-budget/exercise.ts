// Exercise: size a Pod with an init container and a native sidecar so that it fits a ResourceQuota.
//
// The budget is a ResourceQuota the exercise's setup creates, scoped to Pods with a deadline (`Terminating`), so the
// learner's other Pods in a sandbox do not use it up. The verdict on "fits" is the cluster's own: the quota's
// admission either refused the Pod (it is not there) or counted it (its `status.used`). The checker never adds up
// requests itself; it only reads what each container asks for, to hold the learner to the goal's minimums.
import { containerProblem, fail, pass, withPod } from '../checks/common.ts';
import { containerEvidence, describeState, findContainer, longRunningContainers, podEvidence } from '../checks/pods.ts';
import { type CheckContext, defineExercise, type Pod, type ResourceQuota } from '../model.ts';
import { compareQuantities, tryParseQuantity } from '../quantity.ts';
import { defaultedByLimitRanger } from '../sidecar-resources/exercise.ts';

const POD = 'sized-batch';
const QUOTA = 'batch-budget';
const PREPARE = 'prepare';
const WORKER = 'worker';
/** What each container needs at least (CPU requests); the budget is the quota's requests.cpu, 50m (small, so that graded Pods never crowd the node). */
const NEEDS = { prepare: '30m', worker: '35m', sidecar: '10m' } as const;

/** The one container besides `worker` that keeps running (ordinary or native sidecar), or why there is not one. */
function theSidecar(pod: Pod): { name: string } | { problem: string } {
  const others = longRunningContainers(pod.spec)
    .map((c) => c.spec.name)
    .filter((n) => n !== WORKER);
  if (others.length === 1 && others[0]) return { name: others[0] };
  if (others.length === 0) {
    return {
      problem:
        'The Pod has no sidecar next to worker (an init container without restartPolicy: Always runs once and is not one): add one.',
    };
  }
  return { problem: `The Pod has ${others.length} sidecars (${others.join(', ')}); keep one.` };
}

const quotaEvidence = (quota: ResourceQuota | undefined) =>
  quota
    ? { quota: QUOTA, scopes: quota.spec.scopes, hard: quota.status.hard, used: quota.status.used }
    : { quota: 'missing' };

/** The quota the setup made; a missing one is the exercise's setup gone, which the learner can restore. */
const readQuota = (ctx: CheckContext) => ctx.getResourceQuota(QUOTA);

export default defineExercise({
  id: 'sidecar-budget',
  title: 'A sidecar within the budget',
  goal: `Your namespace has a ResourceQuota \`${QUOTA}\` (the exercise creates it): Pods with a deadline
(\`activeDeadlineSeconds\`) may request at most **50m CPU** in total. Create a Pod named \`${POD}\` with a
deadline (\`activeDeadlineSeconds\`, e.g. 3600) that the quota admits and counts, with:

- an init container \`${PREPARE}\` that runs once and finishes (exit 0) before the worker starts; it needs a CPU
  request of at least **${NEEDS.prepare}**;
- a container \`${WORKER}\` that keeps running; it needs at least **${NEEDS.worker}**;
- one log sidecar (any name) that is already running while \`${PREPARE}\` runs and keeps running next to the worker;
  it needs at least **${NEEDS.sidecar}**.

Each request is yours to choose above its minimum, as long as the quota admits the Pod. The starter runs the sidecar
as an ordinary container, so it misses \`${PREPARE}\`. The checker reads the quota's own accounting and each
container's request; a namespace default (20m, given to every container without a request, sidecars included) is not your request.`,
  hints: [
    'A sidecar that must run during an init container is a native sidecar: an init container with `restartPolicy: Always`, declared before that init container.',
    'The scheduler and the quota count a Pod at the larger of two moments: while the app containers run (worker + every native sidecar), and while each init container runs (that init container + the native sidecars declared before it). Init containers are not added to the app containers.',
    'When `kubectl apply` says `exceeded quota: batch-budget, requested: requests.cpu=…`, that number is the Pod as the quota counts it. Find the moment that is over 50m and shrink a container there, without going below its minimum.',
    'One answer: the sidecar first in initContainers with `restartPolicy: Always` and 10m; then `prepare` with 40m; `worker` with 40m. Both moments come to 50m.',
  ],
  equivalentMutants: [
    {
      id: 'swap-image:log-shipper',
      why: 'the goal names no images: any image that runs the same commands does the job',
    },
    { id: 'swap-image:prepare', why: 'the goal names no images: any image that runs the same commands does the job' },
    { id: 'swap-image:worker', why: 'the goal names no images: any image that runs the same commands does the job' },
    {
      id: 'swap-image:fetch@accepted/extra-init-first',
      why: 'the goal names no images: any image that runs the same commands does the job',
    },
    {
      id: 'swap-image:logs@accepted/extra-init-first',
      why: 'the goal names no images: any image that runs the same commands does the job',
    },
    {
      id: 'swap-image:shipper@accepted/minimums-and-limits',
      why: 'the goal names no images: any image that runs the same commands does the job',
    },
    {
      id: 'sleep-command:log-shipper',
      why: 'the goal asks the sidecar to keep running, not to run anything in particular',
    },
    {
      id: 'sleep-command:shipper@accepted/minimums-and-limits',
      why: 'the goal asks the sidecar to keep running, not to run anything in particular',
    },
    { id: 'sleep-command:worker', why: 'the goal asks the worker to keep running, not to run anything in particular' },
    { id: 'rename:log-shipper', why: 'the goal says one log sidecar (any name)' },
    { id: 'rename:logs@accepted/extra-init-first', why: 'the goal says one log sidecar (any name)' },
    { id: 'rename:shipper@accepted/minimums-and-limits', why: 'the goal says one log sidecar (any name)' },
    { id: 'exit-zero:prepare', why: 'prepare only has to run once and exit 0; how long it takes is free' },
    {
      id: 'drop-container:fetch@accepted/extra-init-first',
      why: 'the extra init container is not in the goal; the Pod is correct without it',
    },
    {
      id: 'rename:fetch@accepted/extra-init-first',
      why: 'the extra init container is not in the goal; its name is free',
    },
    {
      id: 'exit-zero:fetch@accepted/extra-init-first',
      why: 'the extra init container is not in the goal; it only has to let the Pod start',
    },
    {
      id: 'zero-requests:fetch@accepted/extra-init-first',
      why: 'the goal sets no minimum for the extra init container',
    },
    {
      id: 'probe-true:logs:startupProbe@accepted/extra-init-first',
      why: 'the goal asks for no startup probe; the sidecar still starts before prepare',
    },
    { id: 'drop-limits:shipper@accepted/minimums-and-limits', why: 'the quota budgets requests only; limits are free' },
    { id: 'drop-limits:prepare@accepted/minimums-and-limits', why: 'the quota budgets requests only; limits are free' },
    { id: 'drop-limits:worker@accepted/minimums-and-limits', why: 'the quota budgets requests only; limits are free' },
  ],
  checks: [
    {
      id: 'pod-admitted',
      title: `The quota "${QUOTA}" admitted "${POD}" and counts it`,
      hint: 'Apply your file and read what `kubectl apply` answers; `kubectl describe quota batch-budget` shows what is counted.',
      async run(ctx) {
        const quota = await readQuota(ctx);
        const evidence: Record<string, unknown> = quotaEvidence(quota);
        if (!quota) {
          return fail(
            `Your namespace has no ResourceQuota "${QUOTA}", which this exercise checks against. Start the exercise again to create it.`,
            evidence,
          );
        }
        const pod = await ctx.getPod(POD);
        if (!pod) {
          return fail(
            `There is no Pod "${POD}". If \`kubectl apply\` answered "exceeded quota: ${QUOTA}, requested: requests.cpu=…", the Pod as the quota counts it is over the budget of ${quota.status.hard['requests.cpu'] ?? '50m'}; change the requests and apply again.`,
            evidence,
          );
        }
        evidence.pod = podEvidence(pod);
        if (pod.metadata.deletionTimestamp) {
          return fail(`The Pod "${POD}" is being deleted; wait for it to go, then create it again.`, evidence);
        }
        if (pod.status.phase === 'Failed' || pod.status.phase === 'Succeeded') {
          return fail(
            `The Pod "${POD}" has stopped (${pod.status.phase}${pod.status.reason ? `, ${pod.status.reason}` : ''}), so the quota no longer counts it. Delete it and create it again.`,
            evidence,
          );
        }
        const used = tryParseQuantity(quota.status.used['requests.cpu'] ?? '0');
        const pods = Number(quota.status.used.pods ?? '0');
        if (!used || compareQuantities(used, '0') <= 0 || pods < 1) {
          return fail(
            `"${POD}" exists, but the quota "${QUOTA}" does not count it (used: ${JSON.stringify(quota.status.used)}): it counts only Pods with a deadline. Set spec.activeDeadlineSeconds: 3600.`,
            evidence,
          );
        }
        return pass(
          `The quota "${QUOTA}" admitted "${POD}": it counts requests.cpu=${quota.status.used['requests.cpu']} of ${quota.status.hard['requests.cpu']}.`,
          evidence,
        );
      },
    },
    {
      id: 'containers-present',
      title: `"${PREPARE}" is an init container, "${WORKER}" a container, and there is one sidecar`,
      hint: `Name the init container exactly "${PREPARE}" and the main container "${WORKER}"; add one more container for the sidecar.`,
      requires: ['pod-admitted'],
      run: withPod(POD, (pod) => {
        const evidence = { containers: podEvidence(pod).containers };
        const prepare = findContainer(pod, PREPARE);
        if (!prepare) return fail(`The Pod has no container "${PREPARE}".`, evidence);
        if (prepare.role !== 'init') {
          return fail(
            `"${PREPARE}" must be an init container that runs once (under initContainers, without restartPolicy: Always).`,
            evidence,
          );
        }
        const worker = containerProblem(pod, { name: WORKER, nativeAllowed: false, role: 'the worker' });
        if (worker) return fail(worker, evidence);
        const sidecar = theSidecar(pod);
        if ('problem' in sidecar) return fail(sidecar.problem, evidence);
        return pass(`The Pod has "${PREPARE}", "${WORKER}" and the sidecar "${sidecar.name}".`, evidence);
      }),
    },
    {
      id: 'requests-meet-needs',
      title: 'Each container requests at least the CPU it needs',
      hint: `CPU requests of at least ${NEEDS.prepare} for prepare, ${NEEDS.worker} for worker and ${NEEDS.sidecar} for the sidecar, under resources.requests.cpu.`,
      requires: ['containers-present'],
      run: withPod(POD, (pod) => {
        const sidecar = theSidecar(pod);
        const sidecarName = 'name' in sidecar ? sidecar.name : '';
        const wanted: Array<[string, string]> = [
          [PREPARE, NEEDS.prepare],
          [WORKER, NEEDS.worker],
          [sidecarName, NEEDS.sidecar],
        ];
        const problems: string[] = [];
        const requests: Record<string, string | undefined> = {};
        for (const [name, need] of wanted) {
          const value = findContainer(pod, name)?.spec.resources.requests.cpu;
          requests[name] = value;
          const parsed = value === undefined ? undefined : tryParseQuantity(value);
          const defaulted = defaultedByLimitRanger(pod, name).has('cpu request');
          if (!parsed || defaulted) {
            problems.push(
              `${name} sets no CPU request${defaulted ? ` (the namespace's default ${value} was filled in)` : ''}; it needs at least ${need}`,
            );
          } else if (compareQuantities(parsed, need) < 0) {
            problems.push(`${name} requests ${value} of CPU, less than the ${need} it needs`);
          }
        }
        const evidence = { requests, needs: NEEDS };
        if (problems.length) return fail(`${problems.join('; ')}.`, evidence);
        return pass(
          `CPU requests: ${wanted.map(([name]) => `${name} ${requests[name]}`).join(', ')}; each is at least what it needs.`,
          evidence,
        );
      }),
    },
    {
      id: 'sidecar-runs-during-prepare',
      title: `The sidecar is running while "${PREPARE}" runs`,
      hint: 'Move the sidecar into initContainers, before prepare, with restartPolicy: Always (a native sidecar).',
      requires: ['containers-present'],
      timeoutMs: 40_000,
      run: async (ctx) => {
        let pod = await ctx.getPod(POD);
        if (!pod) return fail(`The Pod "${POD}" is gone; create it again.`);
        const sidecar = theSidecar(pod);
        if ('problem' in sidecar) return fail(sidecar.problem);
        const name = sidecar.name;
        const spec = findContainer(pod, name);
        if (spec?.role !== 'native-sidecar') {
          return fail(
            `The sidecar "${name}" is ${spec?.role === 'container' ? 'an ordinary container: it starts only after every init container has finished, so it misses prepare' : 'an init container that runs once: it is not running next to the worker'}.`,
            { sidecar: spec && containerEvidence(spec) },
          );
        }
        const order = pod.spec.initContainers.map((c) => c.name);
        if (order.indexOf(name) > order.indexOf(PREPARE)) {
          return fail(
            `The sidecar "${name}" is declared after "${PREPARE}", so the kubelet starts it only when prepare has finished. Declare it before prepare.`,
            { initContainers: order },
          );
        }
        // The statuses tell when each started: wait until prepare has run (its start is recorded when it finishes).
        const waited = await ctx.waitFor(
          async () => {
            pod = await ctx.getPod(POD);
            const prep = pod && findContainer(pod, PREPARE)?.status;
            const side = pod && findContainer(pod, name)?.status;
            return (prep?.state.terminated ?? prep?.lastState.terminated) && side ? { prep, side } : false;
          },
          { timeoutMs: 35_000, intervalMs: 500 },
        );
        if (!waited.ok || !pod) {
          const state = pod ? describeState(findContainer(pod, PREPARE)?.status) : 'gone';
          return fail(`"${PREPARE}" has not finished yet (${state}), so the checker cannot tell when it ran.`, {
            pod: pod && podEvidence(pod),
          });
        }
        const { prep, side } = waited.value;
        const evidence = { sidecar: side, prepare: prep };
        const sidecarStart = side.restartCount === 0 ? side.state.running?.startedAt : undefined;
        const prepareStart = (prep.state.terminated ?? prep.lastState.terminated)?.startedAt;
        if (!sidecarStart || !prepareStart) {
          return fail(
            `The sidecar "${name}" is ${describeState(side)}${side.restartCount ? ` after ${side.restartCount} restarts` : ''}; it should start once, before prepare, and keep running.`,
            evidence,
          );
        }
        if (Date.parse(sidecarStart) > Date.parse(prepareStart)) {
          return fail(`The sidecar started at ${sidecarStart}, after prepare started at ${prepareStart}.`, evidence);
        }
        return pass(
          `The native sidecar "${name}" started at ${sidecarStart}, before prepare (${prepareStart}), and is still running.`,
          evidence,
        );
      },
    },
    {
      id: 'prepare-completes',
      title: `"${PREPARE}" finished successfully and the worker runs`,
      hint: 'prepare must exit 0 (a command that ends); worker must keep running (e.g. a loop or sleep).',
      requires: ['sidecar-runs-during-prepare'],
      timeoutMs: 30_000,
      run: async (ctx) => {
        const waited = await ctx.waitFor(
          async () => {
            const pod = await ctx.getPod(POD);
            const worker = pod && findContainer(pod, WORKER)?.status;
            return worker?.state.running || worker?.state.terminated ? pod : false;
          },
          { timeoutMs: 25_000, intervalMs: 500 },
        );
        const pod = waited.ok ? waited.value : await ctx.getPod(POD);
        if (!pod) return fail(`The Pod "${POD}" is gone; create it again.`);
        const prep = findContainer(pod, PREPARE)?.status;
        const worker = findContainer(pod, WORKER)?.status;
        const evidence = { prepare: prep, worker };
        const exit = prep?.state.terminated?.exitCode;
        if (exit !== 0 || (prep?.restartCount ?? 0) > 0) {
          return fail(
            `"${PREPARE}" ${describeState(prep)}${prep?.restartCount ? ` and was retried ${prep.restartCount} times` : ''}; it should run once and exit 0.`,
            evidence,
          );
        }
        if (!worker?.state.running) {
          return fail(`"${WORKER}" is ${describeState(worker)}; it should keep running.`, evidence);
        }
        return pass(`"${PREPARE}" exited 0 and "${WORKER}" is running.`, evidence);
      },
    },
  ],
});
