// The second hang, on the real cluster: main-app stopped during the first hang for a reason that does not come back
// (here a liveness command that fails once, standing in for a probe that timed out on a busy node) is not held against
// the solution; `broken/proxy-hang-handled--exec-liveness-through-proxy.yaml` covers a stop that does come back.
import { expect, it } from 'vitest';
import { gradeInFreshNamespace } from '../../sandbox-server/src/cluster/grading-namespace.ts';
import { loadKubeConfig } from '../../sandbox-server/src/cluster/kubeconfig.ts';
import { parseManifests } from '../manifests.ts';
import { getExercise } from '../registry.ts';

// The liveness command asks the proxy, and fails only the first time the proxy does not answer: the marker it leaves
// in an emptyDir outlives main-app's restart.
const STOPPED_ONCE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: guarded-proxy-config
data:
  default.conf: |
    server {
      listen 80;
      location / {
        proxy_pass http://127.0.0.1:8080;
      }
    }
---
apiVersion: v1
kind: Pod
metadata:
  name: guarded-proxy
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: main-app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo 'Hello from main-app' > /www/index.html && exec httpd -f -p 8080 -h /www"]
    volumeMounts:
    - name: state
      mountPath: /state
    livenessProbe:
      exec:
        command:
        - sh
        - -c
        - timeout 2 wget -qO- http://127.0.0.1/ >/dev/null || [ -e /state/stopped-once ] || { touch /state/stopped-once; exit 1; }
      periodSeconds: 3
      failureThreshold: 1
      timeoutSeconds: 3
  - name: proxy
    image: nginx:1.26
    volumeMounts:
    - name: config
      mountPath: /etc/nginx/conf.d
    readinessProbe:
      httpGet:
        path: /
        port: 80
      periodSeconds: 2
      failureThreshold: 2
      timeoutSeconds: 1
  volumes:
  - name: config
    configMap:
      name: guarded-proxy-config
  - name: state
    emptyDir: {}
`;

it('a main-app stopped during the first hang but not during a second one passes', async () => {
  const exercise = getExercise('proxy-outage');
  if (!exercise) throw new Error('exercise proxy-outage is not registered');
  const { report } = await gradeInFreshNamespace(
    loadKubeConfig(),
    exercise,
    parseManifests(STOPPED_ONCE, 'stopped-once.yaml'),
  );
  const verdicts = report.checks.map((c) => `${c.status} ${c.id}: ${c.message}`);
  expect(
    verdicts.filter((v) => !v.startsWith('pass')),
    verdicts.join('\n'),
  ).toEqual([]);
  const hang = report.checks.find((c) => c.id === 'proxy-hang-handled');
  expect(hang?.message).toMatch(/stopped once during a first hang but not during this second one/);
  expect(Object.keys(hang?.evidence ?? {})).toEqual(['firstHang', 'secondHang']);
});
