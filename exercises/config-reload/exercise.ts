// Exercise: a configuration-reload sidecar (seed section 2, "Configuration Updates"). The checker changes the
// ConfigMap at check time and watches nginx pick the change up without a restart (see checks/reload.ts).
import { containersPresent, containersRunning, fail, pass, podExists, withPod } from '../checks/common.ts';
import { findContainer, mountsCovering } from '../checks/pods.ts';
import { reloadsOnChange } from '../checks/reload.ts';
import { defineExercise } from '../model.ts';

const POD = 'reloading-web';
const CONFIG_MAP = 'web-config';
const KEY = 'default.conf';
const CONF_DIR = '/etc/nginx/conf.d';

/** The ConfigMap a volume takes its files from: a configMap volume, or a projected volume with one configMap. */
function configMapOf(volume: Record<string, unknown> | undefined): string | undefined {
  const direct = volume?.configMap as { name?: string } | undefined;
  if (direct?.name) return direct.name;
  const sources = (volume?.projected as { sources?: Array<{ configMap?: { name?: string } }> } | undefined)?.sources;
  return sources?.find((s) => s.configMap?.name === CONFIG_MAP)?.configMap?.name;
}

export default defineExercise({
  id: 'config-reload',
  title: 'A configuration-reload sidecar',
  goal: `Create a ConfigMap \`${CONFIG_MAP}\` with a key \`${KEY}\` (an nginx \`server\` block that listens on port 80) and a
Pod named \`${POD}\` where:

- \`main-app\` runs \`nginx:1.26\` with \`${CONFIG_MAP}\` mounted as a whole folder at \`${CONF_DIR}\` (not with
  \`subPath\`: a subPath mount never sees updates);
- \`config-reloader\` notices when the files of \`${CONFIG_MAP}\` change and makes nginx in main-app reload its
  configuration, without restarting main-app. It may be an ordinary container or a native sidecar.

The check replaces \`${KEY}\` in your ConfigMap with a configuration of its own that answers with a random token, and
waits for nginx to answer with it on port 80. The kubelet updates a mounted ConfigMap only at its next sync of the
Pod, up to about 90 seconds later, so **this check can take up to 2 minutes**. nginx must still be the same process
afterwards (a reload keeps nginx's master process; a restarted container does not pass), and main-app's restart count
must not change. Your \`${KEY}\` is put back when the check ends.`,
  hints: [
    "A ConfigMap mounted as a folder holds a hidden link, `..data`, that the kubelet points at a new folder in one step when the ConfigMap changes: watch it (`readlink`) or the files' checksums, in a loop.",
    "nginx re-reads its configuration when its master process gets the HUP signal. `shareProcessNamespace: true` in the Pod spec lets the sidecar see main-app's processes; busybox has `killall` (nginx's workers ignore HUP).",
    'Try it: `kubectl edit configmap web-config`, then within about a minute and a half `kubectl exec reloading-web -c config-reloader -- wget -qO- localhost` shows the new answer and `kubectl get pod reloading-web` still shows 0 restarts.',
    'A reloader that works: `shareProcessNamespace: true`; config-reloader (busybox) mounts the same ConfigMap at /config and runs `last=$(readlink /config/..data); while true; do now=$(readlink /config/..data); if [ "$now" != "$last" ]; then killall -HUP nginx && last=$now; fi; sleep 2; done`.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    {
      id: 'to-native:config-reloader',
      why: 'the goal allows a native sidecar (accepted/native-checksum-master-pid.yaml is one)',
    },
    {
      id: 'to-container:config-reloader@accepted/native-checksum-master-pid',
      why: 'an ordinary reloader container is what the reference solution has',
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'containers-present',
      'The Pod has "main-app" (nginx) and "config-reloader"',
      [
        { name: 'main-app', image: 'nginx', nativeAllowed: false, role: 'the application' },
        { name: 'config-reloader' },
      ],
      'Name the containers exactly "main-app" and "config-reloader"; main-app runs nginx:1.26.',
    ),
    {
      id: 'config-mounted',
      title: `main-app mounts the ConfigMap "${CONFIG_MAP}" as a folder at ${CONF_DIR}`,
      hint: `Add a volume with \`configMap: {name: ${CONFIG_MAP}}\` and mount it in main-app at ${CONF_DIR}, without subPath.`,
      requires: ['containers-present'],
      run: withPod(POD, async (pod, ctx) => {
        const main = findContainer(pod, 'main-app');
        const mounts = main ? mountsCovering(main.spec, `${CONF_DIR}/${KEY}`) : [];
        const volumes = new Map(pod.spec.volumes.map((v) => [v.name, v as Record<string, unknown>]));
        const fromMap = mounts.filter((m) => configMapOf(volumes.get(m.name)) === CONFIG_MAP);
        const evidence = { mounts, volumes: pod.spec.volumes };
        if (fromMap.length === 0) {
          return fail(
            `main-app has no volume from the ConfigMap "${CONFIG_MAP}" mounted at ${CONF_DIR}, so nginx does not read its configuration from it.`,
            evidence,
          );
        }
        const withSubPath = fromMap.find((m) => m.subPath !== undefined);
        if (withSubPath) {
          return fail(
            `main-app mounts "${CONFIG_MAP}" with subPath (${withSubPath.mountPath}); the kubelet never updates a subPath mount, so nginx would never see a change. Mount the whole ConfigMap at ${CONF_DIR}.`,
            evidence,
          );
        }
        const map = await ctx.getConfigMap(CONFIG_MAP);
        if (!map) return fail(`The ConfigMap "${CONFIG_MAP}" does not exist; create it.`, evidence);
        if (map.data[KEY] === undefined) {
          const keys = Object.keys(map.data);
          return fail(
            `The ConfigMap "${CONFIG_MAP}" has no key "${KEY}" (it has: ${keys.join(', ') || 'none'}).`,
            evidence,
          );
        }
        return pass(`main-app reads ${CONF_DIR} from the ConfigMap "${CONFIG_MAP}", which has ${KEY}.`, evidence);
      }),
    },
    containersRunning(POD, ['main-app', 'config-reloader'], { requires: ['containers-present'] }),
    reloadsOnChange(
      { pod: POD, main: 'main-app', reloader: 'config-reloader', configMap: CONFIG_MAP, key: KEY, mountPath: CONF_DIR },
      ['config-mounted', 'containers-running'],
    ),
  ],
});
