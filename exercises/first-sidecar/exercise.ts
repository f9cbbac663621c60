// Exercise: a Pod with nginx and a logging sidecar that shares its network (seed section 4).
import { containersPresent, containersRunning, fail, LOG_BOUNDS, pass, podExists, withPod } from '../checks/common.ts';
import { describeProbe, probeEvidence } from '../checks/http.ts';
import { askForPlanted } from '../checks/planted.ts';
import { lineRepeats, periodWindow, waitLeft } from '../checks/timing.ts';
import { defineExercise } from '../model.ts';

const POD = 'first-sidecar';
const LINE = 'Logging from sidecar container';
const PERIOD_MS = 10_000;

export default defineExercise({
  id: 'first-sidecar',
  title: 'Your first sidecar',
  goal: `Create a Pod named \`${POD}\` with two containers:

- \`nginx\` — image \`nginx:1.26\`, serving on port 80;
- \`sidecar-logger\` — image \`busybox\`, printing \`${LINE}\` every 10 seconds.

Both must be running. The check reads the sidecar's log with timestamps and expects two of those lines about 10
seconds apart (other lines around them are fine). Because containers in a Pod share one network, nginx answers on
\`localhost:80\` from inside the sidecar too: try \`kubectl exec ${POD} -c sidecar-logger -- wget -qO- http://localhost\`.
The check puts a test page into nginx's web root and fetches it that way.`,
  hints: [
    'A Pod lists its containers under spec.containers; add a second entry next to nginx.',
    'busybox has no long-running program of its own: give it a command, e.g. ["/bin/sh", "-c"] with a loop in args.',
    'Check what it prints with `kubectl logs first-sidecar -c sidecar-logger`.',
    'The loop: `while true; do echo "Logging from sidecar container"; sleep 10; done`.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    { id: 'to-native:sidecar-logger', why: 'the goal allows a native sidecar (accepted/native-sidecar.yaml is one)' },
    {
      id: 'to-container:sidecar-logger@accepted/native-sidecar',
      why: 'an ordinary sidecar container is the reference solution',
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'nginx-container',
      'The Pod has an nginx container named "nginx"',
      [{ name: 'nginx', image: 'nginx', nativeAllowed: false, role: 'the web server' }],
      'The container must be named exactly "nginx" and run the image nginx:1.26.',
    ),
    containersPresent(
      POD,
      'sidecar-container',
      'The Pod has a sidecar named "sidecar-logger"',
      [{ name: 'sidecar-logger', image: 'busybox' }],
      'Add a second container named exactly "sidecar-logger" with the image busybox.',
    ),
    containersRunning(POD, ['nginx', 'sidecar-logger'], { requires: ['nginx-container', 'sidecar-container'] }),
    {
      id: 'sidecar-logs-line',
      title: `sidecar-logger logs "${LINE}"`,
      hint: `The sidecar's command should echo exactly "${LINE}"; \`kubectl logs ${POD} -c sidecar-logger\` shows what it prints.`,
      requires: ['containers-running'],
      timeoutMs: 20_000,
      run: withPod(POD, async (pod, ctx) => {
        let text = '';
        // The line comes every 10 s, maybe after other output or a first sleep: wait until the sidecar has had time to
        // print it once (one period and the tolerance, from its start), not merely for any output.
        const seen = await ctx.waitFor(
          async () => {
            text = (await ctx.logs(POD, 'sidecar-logger', LOG_BOUNDS)) ?? '';
            return text.includes(LINE);
          },
          { timeoutMs: waitLeft(pod, 'sidecar-logger', periodWindow(PERIOD_MS).max + 2000), intervalMs: 500 },
        );
        const lines = text.split('\n').filter(Boolean);
        const evidence = { matchedLines: lines.filter((l) => l.includes(LINE)).slice(-3), lastLines: lines.slice(-5) };
        if (seen.ok) return pass(`sidecar-logger's log shows "${LINE}".`, evidence);
        const shown = lines.length ? `It logged: ${lines.slice(-3).join(' | ')}` : 'Its log is empty.';
        return fail(`sidecar-logger's log does not contain "${LINE}". ${shown}`, evidence);
      }),
    },
    lineRepeats({
      id: 'sidecar-logs-every-10-seconds',
      pod: POD,
      container: 'sidecar-logger',
      line: LINE,
      periodMs: PERIOD_MS,
      requires: ['sidecar-logs-line'],
    }),
    {
      id: 'shared-network',
      title: 'nginx answers on localhost:80 from inside the sidecar',
      hint: 'Containers of one Pod share its network: nginx must listen on port 80, and the sidecar reaches it at localhost.',
      requires: ['containers-running'],
      // Three execs (plant the page, ask for it, remove it), each of which a busy node may take seconds to start.
      timeoutMs: 20_000,
      run: withPod(POD, async (_pod, ctx) => {
        // A file only nginx serves: the answer must come from nginx, not from anything else listening on port 80.
        const asked = await askForPlanted(ctx, POD, 'nginx', ['sidecar-logger'], { host: 'localhost', port: 80 });
        const { probe } = asked;
        const { token, plantError } = asked.page;
        const evidence = { probe: probeEvidence(probe), expected: token, plantError };
        // Without a planted page (nginx's web root not writable), an answer from nginx's port is all we can ask for.
        if (asked.served || (token === undefined && probe.status === 200)) {
          return pass(
            "From inside sidecar-logger, http://localhost:80 reaches nginx (it served the checker's test page).",
            evidence,
          );
        }
        if (probe.status === undefined) {
          return fail(
            `From inside sidecar-logger, ${probe.url} ${describeProbe(probe)}. nginx should answer there, since the containers share the Pod's network.`,
            evidence,
          );
        }
        return fail(
          `From inside sidecar-logger, ${probe.url} answered HTTP ${probe.status}, but not with the page the checker put into nginx's web root: something other than nginx answers on port 80.`,
          evidence,
        );
      }),
    },
  ],
});
