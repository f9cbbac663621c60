// A metrics sidecar: an exporter that serves nginx's request count as a Prometheus counter (seed section 2, monitoring).
import { containersPresent, containersRunning, podExists } from '../checks/common.ts';
import {
  counterCountsRequests,
  exporterListens,
  type MetricsTarget,
  metricsServed,
  nginxStatusPage,
} from '../checks/metrics.ts';
import { defineExercise } from '../model.ts';

const POD = 'metrics-sidecar-example';
const T: MetricsTarget = {
  pod: POD,
  main: 'main-app',
  exporter: 'metrics-exporter',
  port: 9113,
  path: '/metrics',
  metric: 'nginx_http_requests_total',
  statusPort: 8080,
  statusPath: '/nginx_status',
};

export default defineExercise({
  id: 'metrics-sidecar',
  title: 'A metrics sidecar',
  goal: `The starter has a Pod named \`${POD}\` whose \`main-app\` runs \`nginx:1.26\` on port 80, plus a ConfigMap that turns
on nginx's status page at \`http://127.0.0.1:8080/nginx_status\` (reachable from inside the Pod only). Keep both and
add a sidecar that exports nginx's request count for Prometheus:

- \`metrics-exporter\` runs \`busybox\` and listens on port \`9113\` on the Pod's IP;
- \`GET /metrics\` on that port answers with a line \`nginx_http_requests_total <number>\` (Prometheus text format;
  \`# HELP\` and \`# TYPE\` lines may come first), where the number is how many requests nginx has handled.

The check sends nginx a number of requests only it knows, then reads the metric again: it must have risen by at
least that many within about ten seconds, and never be more than nginx's own count. metrics-exporter may be an
ordinary container or a native sidecar.`,
  hints: [
    "The two containers share the Pod's network: from metrics-exporter, `wget -qO- http://127.0.0.1:8080/nginx_status` reads nginx's status page. The third number on its third line is the total of requests.",
    'Busybox has a small web server: `httpd -f -p 9113 -h /some/folder` serves the files of that folder, so a loop that rewrites `/some/folder/metrics` every few seconds makes `/metrics` answer.',
    'Turn the status page into the metric with awk: `awk \'NR == 3 { print "nginx_http_requests_total " $3 }\'`. Write to a temporary file and `mv` it into place so a scrape never sees half a file.',
    'A solution: `command: ["sh", "-c"]` with args `mkdir -p /tmp/www; while true; do wget -qO- http://127.0.0.1:8080/nginx_status | awk \'NR == 3 { print "nginx_http_requests_total " $3 }\' > /tmp/www/metrics.new; mv /tmp/www/metrics.new /tmp/www/metrics; sleep 2; done & exec httpd -f -p 9113 -h /tmp/www`.',
  ],
  equivalentMutants: [
    {
      id: 'to-native:metrics-exporter',
      why: 'the goal allows a native sidecar (accepted/native-access-log.yaml is one)',
    },
    {
      id: 'to-container:metrics-exporter@accepted/native-access-log',
      why: 'the goal allows an ordinary container, as the reference solution has',
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'containers-present',
      'The Pod has "main-app" (nginx) and "metrics-exporter" (busybox)',
      [
        { name: T.main, image: 'nginx', nativeAllowed: false, role: 'the application' },
        { name: T.exporter, image: 'busybox' },
      ],
      'Name the containers exactly "main-app" and "metrics-exporter"; main-app runs nginx:1.26, metrics-exporter busybox.',
    ),
    containersRunning(POD, [T.main, T.exporter], { requires: ['containers-present'] }),
    nginxStatusPage(T, ['containers-running']),
    exporterListens(T, ['containers-running']),
    metricsServed(T, ['exporter-listens']),
    counterCountsRequests(T, ['nginx-status-page', 'metrics-served']),
  ],
});
