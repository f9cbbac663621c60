// Exercise: a proxy sidecar on port 80 in front of an app on port 8080 (seed section 5.2, with images we have).
//
// "From another Pod": the checker has no rights to create Pods (it is read-only plus exec), so it sends the request
// to the Pod's IP from a container other than the proxy, by exec. That request leaves through the Pod's own address,
// exactly what another Pod would connect to, so it proves the proxy listens beyond 127.0.0.1; which process owns the
// port is read from /proc inside the proxy container.
//
// "Forwards": a proxy that serves its own copy of the page (busybox httpd with the same index.html, nginx
// `return 200 …`) returns the page too. So the checker writes two fresh files, with random names and contents, into
// the folder main-app serves (found from main-app's processes and confirmed by asking main-app for the first file),
// and asks for both through the Pod's IP on port 80: only a proxy that forwards to main-app can return them.
import { containersPresent, containersRunning, fail, pass, podExists, withPod } from '../checks/common.ts';
import { describeProbe, httpGet, probeEvidence } from '../checks/http.ts';
import { findContainer, mountsCovering } from '../checks/pods.ts';
import { inspectPort, isLoopback } from '../checks/sockets.ts';
import { plantFiles, removePlanted } from '../checks/web-root.ts';
import { defineExercise } from '../model.ts';

const POD = 'proxy-sidecar';
const PAGE = 'Hello from main-app';

export default defineExercise({
  id: 'proxy-sidecar',
  title: 'A proxy sidecar',
  goal: `Create a Pod named \`${POD}\` with two containers:

- \`main-app\` serves HTTP on port **8080**: the files of a folder it can write to, with a page that says
  \`${PAGE}\` at \`/\` (busybox can do it: \`httpd -f -p 8080 -h /www\` serves the files in /www);
- \`proxy\` listens on port **80** and forwards every request, whatever its path, to \`localhost:8080\` (nginx can do
  it with a \`proxy_pass\` in a configuration file from a ConfigMap). It may be a native sidecar.

A request from another Pod to this Pod's IP on port 80 must return main-app's answer. The checker proves it by
writing fresh files into main-app's folder and fetching them through port 80, so only a proxy that forwards passes;
the proxy must not mount main-app's folder (it forwards, it does not serve files).
The Pod and container names are fixed; the ConfigMap, volume and image choices are up to you.`,
  hints: [
    'Containers in a Pod share localhost: the proxy reaches main-app at http://127.0.0.1:8080.',
    'Create main-app\'s page before starting httpd: `mkdir -p /www && echo "Hello from main-app" > /www/index.html && exec httpd -f -p 8080 -h /www`.',
    'Test from inside: `kubectl exec proxy-sidecar -c main-app -- wget -qO- http://<pod-ip>:80/` (the IP is in `kubectl get pod -o wide`).',
    'Put an nginx server block in a ConfigMap (`listen 80;` and `location / { proxy_pass http://127.0.0.1:8080; }`) and mount it at /etc/nginx/conf.d in the proxy.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    {
      id: 'to-native:proxy',
      why: "the goal fixes the proxy's name and port, not its kind: a native sidecar proxy forwards the same",
    },
    {
      id: 'to-container:proxy@accepted/native-proxy-httpd-cwd',
      why: "the goal allows either kind of proxy; the reference solution's is ordinary",
    },
    {
      id: 'drop-mount:main-app:/srv/site@accepted/native-proxy-httpd-cwd',
      why: "main-app's workingDir is created in its own writable filesystem; the goal asks for a folder, not a volume",
    },
    {
      id: 'move-mount:main-app:/srv/site@accepted/native-proxy-httpd-cwd',
      why: "main-app's workingDir is created in its own writable filesystem; the goal asks for a folder, not a volume",
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'containers-present',
      'The Pod has "main-app" and "proxy"',
      [{ name: 'main-app', nativeAllowed: false, role: 'the application' }, { name: 'proxy' }],
      'Name the containers exactly "main-app" and "proxy".',
    ),
    containersRunning(POD, ['main-app', 'proxy'], { requires: ['containers-present'] }),
    {
      id: 'main-app-serves-8080',
      title: `main-app serves "${PAGE}" on port 8080`,
      hint: "main-app must listen on port 8080 (not 80: that port is the proxy's).",
      requires: ['containers-running'],
      run: withPod(POD, async (_pod, ctx) => {
        const probe = await httpGet(ctx, POD, ['main-app', 'proxy'], { host: '127.0.0.1', port: 8080, path: '/' });
        const evidence = { probe: probeEvidence(probe) };
        if (probe.status === undefined) {
          return fail(
            `Inside the Pod, http://localhost:8080/ ${describeProbe(probe)}; main-app should serve there.`,
            evidence,
          );
        }
        if (probe.status !== 200) {
          return fail(
            `main-app answers HTTP ${probe.status} on port 8080; it should serve a page saying "${PAGE}".`,
            evidence,
          );
        }
        if (!probe.body.includes(PAGE)) {
          return fail(`Port 8080 answers, but the page does not say "${PAGE}".`, evidence);
        }
        return pass(`main-app serves "${PAGE}" on port 8080.`, evidence);
      }),
    },
    {
      id: 'proxy-listens-on-80',
      title: "The proxy listens on port 80 on the Pod's IP",
      hint: 'The proxy must listen on port 80 on every address (nginx: `listen 80;`), not only on 127.0.0.1.',
      requires: ['containers-running'],
      run: withPod(POD, async (pod, ctx) => {
        const ip = pod.status.podIP;
        if (!ip) return fail('The Pod has no IP address yet.');
        const ports = await inspectPort(ctx, POD, 'proxy', 80);
        const evidence: Record<string, unknown> = { podIP: ip, listeners: ports.listeners, proc: ports.raw };
        if (ports.listeners.length === 0 && ports.ownedByContainer !== undefined) {
          return fail('Nothing listens on port 80 in the Pod; the proxy container should.', evidence);
        }
        if (ports.listeners.length > 0 && ports.listeners.every((l) => isLoopback(l.address))) {
          const where = ports.listeners.map((l) => `${l.address}:80`).join(', ');
          return fail(
            `Port 80 is only open on ${where}, which other Pods cannot reach; listen on all addresses.`,
            evidence,
          );
        }
        if (ports.ownedByContainer === false) {
          return fail(
            'Something listens on port 80, but it is not the proxy container: another container holds the port.',
            evidence,
          );
        }
        const from = ['main-app', 'proxy']; // prefer another container, as a client Pod would be
        const probe = await httpGet(ctx, POD, from, { host: ip, port: 80, path: '/' });
        evidence.probe = probeEvidence(probe);
        if (probe.status === undefined) {
          return fail(`A request to the Pod's IP (${ip}) on port 80 ${describeProbe(probe)}.`, evidence);
        }
        return pass(`The proxy listens on port 80 and answers on the Pod's IP (${ip}).`, evidence);
      }),
    },
    {
      id: 'proxy-forwards-to-main-app',
      title: "A request to the Pod's IP on port 80 returns main-app's page",
      hint: 'Point the proxy at http://127.0.0.1:8080 (nginx: `proxy_pass http://127.0.0.1:8080;` inside `location / { }`).',
      requires: ['main-app-serves-8080', 'proxy-listens-on-80'],
      timeoutMs: 30_000,
      run: withPod(POD, async (pod, ctx) => {
        const ip = pod.status.podIP ?? '';
        const from = ['main-app', 'proxy'];
        const probe = await httpGet(ctx, POD, from, { host: ip, port: 80, path: '/' });
        const evidence: Record<string, unknown> = { probe: probeEvidence(probe) };
        if (probe.status === 502 || probe.status === 504) {
          return fail(
            `The proxy answered HTTP ${probe.status}: it could not reach where it forwards to. It should forward to localhost:8080, where main-app listens.`,
            evidence,
          );
        }
        if (probe.status === undefined) return fail(`http://${ip}:80/ ${describeProbe(probe)}.`, evidence);
        if (probe.status !== 200 || !probe.body.includes(PAGE)) {
          return fail(
            `http://${ip}:80/ answered HTTP ${probe.status} without main-app's page: the proxy serves something of its own instead of forwarding to localhost:8080.`,
            evidence,
          );
        }
        const planted = await plantFiles(ctx, POD, 'main-app', 8080);
        evidence.webRoot = planted.ok
          ? planted.root
          : { tried: planted.tried, probes: planted.probes.map(probeEvidence) };
        if (!planted.ok) {
          return fail(
            `To see whether requests reach main-app, the checker writes a fresh file into the folder main-app serves and asks for it, but found no such folder it could write to${planted.tried.length ? ` (tried ${planted.tried.join(', ')})` : ''}. Serve the page from a writable folder, e.g. \`httpd -f -p 8080 -h /www\` with /www made by the command (not a ConfigMap).`,
            evidence,
          );
        }
        try {
          // A "proxy" that mounts main-app's folder could serve the planted files itself: nothing would be proven.
          const main = findContainer(pod, 'main-app');
          const rootVolumes = new Set(main ? mountsCovering(main.spec, planted.root).map((m) => m.name) : []);
          const shared = findContainer(pod, 'proxy')?.spec.volumeMounts.find((m) => rootVolumes.has(m.name));
          if (shared) {
            return fail(
              `The proxy mounts main-app's web folder (${planted.root}, volume "${shared.name}"), so it could serve main-app's files itself instead of forwarding. The proxy forwards to localhost:8080; do not mount main-app's folder in it.`,
              evidence,
            );
          }
          const fetched = [];
          for (const file of planted.files) {
            const through = await httpGet(ctx, POD, from, { host: ip, port: 80, path: file.path });
            fetched.push(probeEvidence(through));
            evidence.fetched = fetched;
            if (through.status !== 200 || !through.body.includes(file.content)) {
              const answer = through.status === undefined ? describeProbe(through) : `answered HTTP ${through.status}`;
              return fail(
                `main-app serves ${file.path} (a file the checker just wrote into ${planted.root}), but http://${ip}:80${file.path} ${answer}${through.status === 200 ? ' with other content' : ''}: the proxy does not forward every request to main-app; it serves something of its own.`,
                evidence,
              );
            }
          }
          return pass(
            `Two fresh files the checker wrote into main-app's ${planted.root} came back through http://${ip}:80: the proxy forwards to main-app.`,
            evidence,
          );
        } finally {
          await removePlanted(ctx, POD, 'main-app', planted.root, planted.files);
        }
      }),
    },
  ],
});
