// Exercise 7: a crashing sidecar restarts on its own while the main container keeps running and serving.
import { containerProblem, containersPresent, fail, pass, podExists, withPod } from '../checks/common.ts';
import { describeProbe, httpGet, probeEvidence } from '../checks/http.ts';
import { containerEvidence, describeState, findContainer, longRunningContainers } from '../checks/pods.ts';
import { defineExercise, type Pod } from '../model.ts';

const POD = 'restart-demo';
const MAIN = 'main-app';
/** How long a sidecar may run without failing before we conclude it does not fail "every few seconds". */
const QUIET_MS = 25_000;

/** Every container that runs beside main-app: the sidecars, whatever their names. */
const sidecarNames = (pod: Pod) =>
  longRunningContainers(pod.spec)
    .map((c) => c.spec.name)
    .filter((n) => n !== MAIN);

export default defineExercise({
  id: 'sidecar-restart',
  title: 'A sidecar restarts on its own',
  goal: `Create a Pod named \`${POD}\` with:

- \`${MAIN}\` running \`nginx:1.26\`;
- a sidecar (any name, image busybox) that exits **with an error** every few seconds, e.g. \`sleep 5; exit 1\`.

Watch \`kubectl get pod ${POD} -w\`: the sidecar's restart count goes up, while main-app never restarts and keeps
serving. Containers restart independently: a failing sidecar does not take the application down.`,
  hints: [
    'The sidecar\'s command can be as short as `sh -c "echo starting; sleep 5; exit 1"`.',
    "Leave the Pod's restartPolicy at its default (Always), or the sidecar will not come back.",
    'Kubernetes waits longer between restarts each time (CrashLoopBackOff); that is expected here.',
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
      title: 'The Pod has a sidecar',
      hint: 'Add a second container (any name) next to main-app.',
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
        return pass(`The sidecar: ${sidecars.join(', ')}.`, { sidecars });
      }),
    },
    {
      id: 'sidecar-restarts',
      title: 'The sidecar fails and restarts on its own',
      hint: "The sidecar should exit with a non-zero code after a few seconds (e.g. `sleep 5; exit 1`), and the Pod's restartPolicy must allow restarts.",
      requires: ['main-app-present', 'sidecar-present'],
      timeoutMs: 45_000,
      run: withPod(POD, async (first, ctx) => {
        let pod = first;
        // "Every few seconds": a sidecar that has run for QUIET_MS without failing is taken not to fail at all.
        const restarted = await ctx.waitFor(
          async () => {
            pod = (await ctx.getPod(POD)) ?? pod;
            const sidecars = sidecarNames(pod).map((n) => findContainer(pod, n));
            const done = sidecars.find((f) => (f?.status?.restartCount ?? 0) >= 1);
            if (done) return done;
            // A sidecar that stopped for good will not restart, however long we wait.
            const stopped = sidecars.find(
              (f) => f?.status?.state.terminated && f.role === 'container' && pod.spec.restartPolicy === 'Never',
            );
            if (stopped) return stopped;
            const calm = sidecars.every((f) => {
              const started = f?.status?.state.running?.startedAt;
              return started !== undefined && Date.now() - Date.parse(started) > QUIET_MS;
            });
            return calm ? 'calm' : false;
          },
          { timeoutMs: QUIET_MS + 5000, intervalMs: 500 },
        );
        const evidence = { pod: pod.metadata.name, restartPolicy: pod.spec.restartPolicy, sidecars: [] as unknown[] };
        evidence.sidecars = sidecarNames(pod)
          .map((n) => findContainer(pod, n))
          .map((f) => f && containerEvidence(f));
        if (!restarted.ok || restarted.value === 'calm') {
          return fail(
            `The sidecar has been running for ${QUIET_MS / 1000} s without failing (${sidecarNames(pod)
              .map((n) => `${n} is ${describeState(findContainer(pod, n)?.status)}`)
              .join(', ')}). It should exit with an error every few seconds.`,
            evidence,
          );
        }
        const sidecar = restarted.value;
        const name = sidecar.spec.name;
        const status = sidecar.status;
        if (!status || status.restartCount < 1) {
          return fail(
            `${name} exited and was not restarted, because the Pod's restartPolicy is Never. Remove it (the default is Always) so Kubernetes restarts the sidecar.`,
            evidence,
          );
        }
        const exit = status.lastState.terminated?.exitCode ?? status.state.terminated?.exitCode;
        if (exit === 0) {
          return fail(
            `${name} restarted, but it exits with code 0 (success). Make it fail: exit with a non-zero code, e.g. \`exit 1\`.`,
            evidence,
          );
        }
        return pass(
          `${name} exited with code ${exit ?? 'non-zero'} and was restarted ${status.restartCount} time(s) by Kubernetes.`,
          evidence,
        );
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
    {
      id: 'main-app-keeps-serving',
      title: 'main-app keeps serving while the sidecar crashes',
      hint: 'nginx should answer on port 80 inside the Pod.',
      requires: ['main-app-never-restarts'],
      run: withPod(POD, async (pod, ctx) => {
        // Ask from main-app first: the sidecar may be down at this very moment.
        const from = [MAIN, ...sidecarNames(pod)];
        const probe = await httpGet(ctx, POD, from, { host: '127.0.0.1', port: 80, path: '/' });
        const evidence = { probe: probeEvidence(probe) };
        if (probe.status === 200) return pass('nginx in main-app answers on port 80.', evidence);
        return fail(
          `Inside the Pod, http://localhost:80/ ${describeProbe(probe)}; main-app should keep serving.`,
          evidence,
        );
      }),
    },
  ],
});
