// Exercise: a crashing sidecar restarts on its own while the main container keeps running and serving.
import { containerProblem, containersPresent, fail, imageName, pass, podExists, withPod } from '../checks/common.ts';
import {
  containerEvidence,
  describeState,
  type FoundContainer,
  findContainer,
  longRunningContainers,
  stuckExplanation,
} from '../checks/pods.ts';
import { type Flakiness, failureHistory, judgeFlakiness } from '../checks/restarts.ts';
import { nginxServes } from '../checks/serving.ts';
import { defineExercise, type Pod } from '../model.ts';

const POD = 'restart-demo';
const MAIN = 'main-app';
/** How long a sidecar may run without failing before we conclude it does not fail "every few seconds". */
const QUIET_MS = 25_000;
const SIDECAR_IMAGE = 'busybox';

/** Every container that runs beside main-app: the sidecars, whatever their names. */
const sidecarNames = (pod: Pod) =>
  longRunningContainers(pod.spec)
    .map((c) => c.spec.name)
    .filter((n) => n !== MAIN);

/** The sidecars that run busybox, as the goal asks: the candidates for the failing one. */
function flakySidecars(pod: Pod): Array<{ name: string; found: FoundContainer }> {
  return sidecarNames(pod)
    .map((name) => ({ name, found: findContainer(pod, name) }))
    .filter((c): c is { name: string; found: FoundContainer } => imageName(c.found?.spec.image) === SIDECAR_IMAGE);
}

/** Whether the kubelet restarts this container when it ends with an error. */
const restartsOnError = (pod: Pod, found: FoundContainer) =>
  found.role === 'native-sidecar' || (pod.spec.restartPolicy ?? 'Always') !== 'Never';

function judgeSidecar(pod: Pod, found: FoundContainer): Flakiness {
  if (!found.status) return { kind: 'wait', why: 'has not started yet' };
  const stuck = stuckExplanation(found.spec.name, found);
  // CrashLoopBackOff is what this exercise wants; other stuck reasons (a bad image) will not fix themselves.
  if (stuck && found.status.state.waiting?.reason !== 'CrashLoopBackOff')
    return { kind: 'fail', why: `cannot run: ${stuck}` };
  return judgeFlakiness(failureHistory(found.status, Date.now()), QUIET_MS, restartsOnError(pod, found));
}

export default defineExercise({
  id: 'sidecar-restart',
  title: 'A sidecar restarts on its own',
  goal: `Create a Pod named \`${POD}\` with:

- \`${MAIN}\` running \`nginx:1.26\`;
- a sidecar (any name, image busybox) that exits **with an error** every few seconds, e.g. \`sleep 5; exit 1\`.

The check watches the sidecar fail at least twice with a non-zero exit code, each run it sees lasting at most
${QUIET_MS / 1000} seconds (one that stays up longer has stopped failing), so it may take up to a minute.

Watch \`kubectl get pod ${POD} -w\`: the sidecar's restart count goes up, while main-app never restarts and keeps
serving. Containers restart independently: a failing sidecar does not take the application down.`,
  hints: [
    "A container is restarted when its process exits: make the sidecar's shell run for a few seconds, then exit with a non-zero code.",
    "Leave the Pod's restartPolicy at its default (Always), or the sidecar will not come back.",
    'Kubernetes waits longer between restarts each time (CrashLoopBackOff); that is expected here.',
    'The sidecar\'s command can be as short as `sh -c "echo starting; sleep 5; exit 1"`.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    { id: 'to-native:flaky-sidecar', why: 'the goal allows a native sidecar (accepted/native-sidecar.yaml is one)' },
    {
      id: 'to-container:flaky@accepted/native-sidecar',
      why: 'an ordinary sidecar container is what the reference solution has',
    },
    { id: 'rename:flaky-sidecar', why: 'the goal says "a sidecar (any name)"' },
    { id: 'rename:flaky@accepted/native-sidecar', why: 'the goal says "a sidecar (any name)"' },
    {
      id: 'drop-container:steady-logger@accepted/two-sidecars-other-exit',
      why: 'steady-logger is an extra sidecar the goal does not ask for',
    },
    {
      id: 'swap-image:steady-logger@accepted/two-sidecars-other-exit',
      why: 'steady-logger is an extra sidecar the goal does not ask for',
    },
    {
      id: 'sleep-command:steady-logger@accepted/two-sidecars-other-exit',
      why: 'steady-logger is an extra sidecar the goal does not ask for',
    },
    {
      id: 'to-native:steady-logger@accepted/two-sidecars-other-exit',
      why: 'steady-logger is an extra sidecar the goal does not ask for',
    },
    {
      id: 'rename:steady-logger@accepted/two-sidecars-other-exit',
      why: 'steady-logger is an extra sidecar the goal does not ask for',
    },
    {
      id: 'exit-zero:steady-logger@accepted/two-sidecars-other-exit',
      why: 'steady-logger is an extra sidecar the goal does not ask for; crasher still fails',
    },
    {
      id: 'to-native:crasher@accepted/two-sidecars-other-exit',
      why: 'the goal allows a native sidecar (accepted/native-sidecar.yaml is one)',
    },
    { id: 'rename:crasher@accepted/two-sidecars-other-exit', why: 'the goal says "a sidecar (any name)"' },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'main-app-present',
      'main-app runs nginx',
      [{ name: MAIN, image: 'nginx', nativeAllowed: false, role: 'the application' }],
      'Name the nginx container exactly "main-app".',
    ),
    {
      id: 'sidecar-present',
      title: 'The Pod has a busybox sidecar',
      hint: 'Add a second container (any name, image busybox) next to main-app.',
      requires: ['main-app-present'],
      run: withPod(POD, (pod) => {
        const sidecars = sidecarNames(pod);
        const plainInit = pod.spec.initContainers.filter((c) => c.restartPolicy !== 'Always').map((c) => c.name);
        if (sidecars.length === 0) {
          const note = plainInit.length
            ? ` (${plainInit.join(', ')} is an init container without restartPolicy: Always)`
            : '';
          return fail(`The Pod has no container besides main-app${note}: add a sidecar.`);
        }
        const busybox = flakySidecars(pod).map((c) => c.name);
        if (busybox.length === 0) {
          const images = sidecars.map((n) => `${n} runs "${findContainer(pod, n)?.spec.image ?? ''}"`).join(', ');
          return fail(`The sidecar should run the image ${SIDECAR_IMAGE} (${images}).`, { sidecars });
        }
        return pass(`The sidecar: ${busybox.join(', ')}.`, { sidecars });
      }),
    },
    {
      id: 'sidecar-restarts',
      title: 'The sidecar fails every few seconds and is restarted each time',
      hint: "The sidecar should exit with a non-zero code after a few seconds (e.g. `sleep 5; exit 1`) every time it runs, and the Pod's restartPolicy must allow restarts.",
      requires: ['main-app-present', 'sidecar-present'],
      // Time for a first failure, the kubelet's first back-off (10 s), and a second run to fail.
      timeoutMs: 2 * QUIET_MS + 25_000,
      run: withPod(POD, async (first, ctx) => {
        let pod = first;
        let verdicts: Array<{ name: string; verdict: Flakiness }> = [];
        await ctx.waitFor(
          async () => {
            pod = (await ctx.getPod(POD)) ?? pod;
            verdicts = flakySidecars(pod).map(({ name, found }) => ({ name, verdict: judgeSidecar(pod, found) }));
            // Done as soon as one sidecar proves it, or when none can any more.
            return verdicts.some((v) => v.verdict.kind === 'ok') || verdicts.every((v) => v.verdict.kind === 'fail');
          },
          { timeoutMs: 2 * QUIET_MS + 20_000, intervalMs: 1000 },
        );
        const evidence = {
          restartPolicy: pod.spec.restartPolicy,
          verdicts,
          sidecars: flakySidecars(pod).map(({ found }) => containerEvidence(found)),
        };
        const proven = verdicts.find((v) => v.verdict.kind === 'ok');
        if (proven && proven.verdict.kind === 'ok') {
          const { failures, lastExit } = proven.verdict;
          return pass(
            `${proven.name} failed ${failures} times, the last with exit code ${lastExit}, and Kubernetes restarted it each time.`,
            evidence,
          );
        }
        const why = verdicts.map((v) => `${v.name} ${'why' in v.verdict ? v.verdict.why : 'passed'}`).join('; ');
        const never =
          pod.spec.restartPolicy === 'Never'
            ? " The Pod's restartPolicy is Never: remove it (the default is Always)."
            : '';
        return fail(`The sidecar should exit with an error every few seconds: ${why}.${never}`, evidence);
      }),
    },
    {
      id: 'main-app-never-restarts',
      title: 'main-app keeps running without restarts',
      hint: "main-app must not depend on the sidecar: leave nginx's command alone.",
      requires: ['sidecar-restarts'],
      run: withPod(POD, (pod) => {
        const main = findContainer(pod, MAIN);
        const problem = containerProblem(pod, { name: MAIN });
        if (!main || problem) return fail(problem ?? `There is no container "${MAIN}".`);
        const evidence = { container: containerEvidence(main) };
        const restarts = main.status?.restartCount ?? 0;
        if (restarts > 0) {
          return fail(`main-app has restarted ${restarts} time(s); only the sidecar should.`, evidence);
        }
        if (!main.status?.state.running) return fail(`main-app is ${describeState(main.status)}.`, evidence);
        return pass('main-app has been running without a restart while the sidecar crashed.', evidence);
      }),
    },
    nginxServes(POD, MAIN, {
      id: 'main-app-keeps-serving',
      title: 'main-app keeps serving while the sidecar crashes',
      hint: 'nginx should answer on port 80 inside the Pod.',
      requires: ['main-app-never-restarts'],
      should: 'keep serving',
      // Ask from main-app first: the sidecar may be down at this very moment.
      askFrom: sidecarNames,
    }),
  ],
});
