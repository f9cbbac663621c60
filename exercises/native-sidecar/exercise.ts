// Exercise: the log collector as a native sidecar (an init container with restartPolicy: Always), started first.
import { containersPresent, containersRunning, fail, pass, podExists, withPod } from '../checks/common.ts';
import { collectorMountsLogVolume, mainAppLogsOnVolume, requestReachesCollector } from '../checks/logging.ts';
import { containerEvidence, findContainer } from '../checks/pods.ts';
import { defineExercise } from '../model.ts';

const POD = 'native-sidecar-example';

export default defineExercise({
  id: 'native-sidecar',
  title: 'A native sidecar container',
  goal: `Rebuild the logging Pod as \`${POD}\`, with \`log-collector\` declared as a **native sidecar**: an entry under
\`spec.initContainers\` with \`restartPolicy: Always\`. \`main-app\` stays an ordinary container running nginx:1.26
with its logs on a shared volume at /var/log/nginx.

Kubernetes then starts log-collector before main-app, keeps it running beside it, and stops it after main-app.
Both must be running, and requests to nginx must show up in log-collector's log as they come (the check sends
two, one after the other). The collector's image is up to you.`,
  hints: [
    'Move the log-collector entry from spec.containers to spec.initContainers.',
    'An ordinary init container must finish before main-app starts, and `tail -F` never finishes: the Pod would stay at `Init:0/1`. One field on the entry changes that.',
    'Add `restartPolicy: Always` to the log-collector entry: it is what turns an init container into a sidecar.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    {
      id: 'swap-image:log-collector',
      why: "the goal fixes main-app's image only; the collector's sh and tail work the same in nginx's image",
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'main-app-present',
      'main-app runs nginx as an ordinary container',
      [{ name: 'main-app', image: 'nginx', nativeAllowed: false, role: 'the application' }],
      'main-app stays under spec.containers with image nginx:1.26.',
    ),
    {
      id: 'collector-is-native-sidecar',
      title: 'log-collector is a native sidecar',
      hint: 'Declare log-collector under spec.initContainers with restartPolicy: Always.',
      requires: ['pod-exists'],
      run: withPod(POD, (pod) => {
        const found = findContainer(pod, 'log-collector');
        if (!found) return fail('The Pod has no container named "log-collector".');
        const evidence = { container: containerEvidence(found) };
        switch (found.role) {
          case 'native-sidecar':
            return pass('log-collector is an init container with restartPolicy: Always: a native sidecar.', evidence);
          case 'container':
            return fail(
              'log-collector is an ordinary container (under spec.containers). In this exercise it must be a native sidecar: under spec.initContainers with restartPolicy: Always.',
              evidence,
            );
          default:
            return fail(
              'log-collector is an init container without restartPolicy: Always, so Kubernetes waits for it to finish before starting main-app, and a collector never finishes. Add restartPolicy: Always.',
              evidence,
            );
        }
      }),
    },
    mainAppLogsOnVolume(POD, 'main-app', ['main-app-present']),
    collectorMountsLogVolume(POD, 'main-app', 'log-collector', [
      'main-app-logs-on-volume',
      'collector-is-native-sidecar',
    ]),
    containersRunning(POD, ['log-collector', 'main-app'], {
      requires: ['main-app-present', 'collector-is-native-sidecar'],
    }),
    {
      id: 'collector-started-first',
      title: 'log-collector started before main-app',
      hint: 'Native sidecars start before the ordinary containers; that ordering is what initContainers give you.',
      requires: ['containers-running'],
      run: withPod(POD, (pod) => {
        const collector = findContainer(pod, 'log-collector');
        const main = findContainer(pod, 'main-app');
        const evidence = {
          'log-collector': collector && containerEvidence(collector),
          'main-app': main && containerEvidence(main),
        };
        const collectorStart = collector?.status?.state.running?.startedAt;
        const mainStart = main?.status?.state.running?.startedAt;
        if (!collectorStart || !mainStart)
          return fail('Both containers must be running to compare their start times.', evidence);
        if ((collector?.status?.restartCount ?? 0) > 0) {
          // Its first start is no longer recorded; the kubelet starts native sidecars first by construction.
          return pass(`log-collector was started first (as a native sidecar) and has restarted since.`, evidence);
        }
        const [c, m] = [Date.parse(collectorStart), Date.parse(mainStart)];
        if (c < m) return pass(`log-collector started at ${collectorStart}, main-app at ${mainStart}.`, evidence);
        if (c === m) {
          // Start times have one-second resolution; the kubelet started the native sidecar first within it.
          return pass(
            `log-collector and main-app started within the same second (${mainStart}), the sidecar first.`,
            evidence,
          );
        }
        return fail(`main-app started (${mainStart}) before log-collector (${collectorStart}).`, evidence);
      }),
    },
    requestReachesCollector(POD, 'main-app', 'log-collector', ['collector-mounts-log-volume', 'containers-running']),
  ],
});
