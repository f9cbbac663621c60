// Exercise: a log-collector sidecar that reads nginx's access log from a shared volume (seed section 5.1).
import { containersPresent, containersRunning, podExists } from '../checks/common.ts';
import { collectorMountsLogVolume, mainAppLogsOnVolume, requestReachesCollector } from '../checks/logging.ts';
import { defineExercise } from '../model.ts';

const POD = 'logging-sidecar';

export default defineExercise({
  id: 'logging-sidecar',
  title: 'A logging sidecar',
  goal: `Create a Pod named \`${POD}\` where:

- \`main-app\` runs \`nginx:1.26\` and keeps its logs in a volume mounted at \`/var/log/nginx\` (nginx then writes
  \`access.log\` there);
- \`log-collector\` runs \`busybox\`, mounts the same volume, and prints the access log to its own stdout.

The check asks nginx for a test page it puts into nginx's web root and expects to see that request in
\`kubectl logs ${POD} -c log-collector\` within a few seconds, then a second one: the collector must keep following
the log, not read it once. log-collector may be an ordinary container or a native sidecar.`,
  hints: [
    'Declare one emptyDir volume under spec.volumes and mount it in both containers.',
    'nginx writes /var/log/nginx/access.log; mount the volume there in main-app.',
    "Test it yourself: `kubectl exec logging-sidecar -c log-collector -- wget -qO- localhost`, then look at the collector's logs.",
    'The collector prints the file with `tail -F <file>` (capital F keeps trying until nginx has created the file).',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    {
      id: 'to-native:log-collector',
      why: 'the goal allows a native sidecar (accepted/native-sidecar-other-path.yaml is one)',
    },
    {
      id: 'to-container:log-collector@accepted/native-sidecar-other-path',
      why: 'an ordinary collector container is what the reference solution has',
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'containers-present',
      'The Pod has "main-app" (nginx) and "log-collector"',
      [
        { name: 'main-app', image: 'nginx', nativeAllowed: false, role: 'the application' },
        { name: 'log-collector', image: 'busybox' },
      ],
      'Name the containers exactly "main-app" and "log-collector"; main-app runs nginx:1.26, log-collector busybox.',
    ),
    mainAppLogsOnVolume(POD, 'main-app', ['containers-present']),
    collectorMountsLogVolume(POD, 'main-app', 'log-collector', ['main-app-logs-on-volume']),
    containersRunning(POD, ['main-app', 'log-collector'], { requires: ['containers-present'] }),
    requestReachesCollector(POD, 'main-app', 'log-collector', ['collector-mounts-log-volume', 'containers-running']),
  ],
});
