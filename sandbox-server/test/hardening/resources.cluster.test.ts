// Hardening — resources, tokens, ephemeral containers and stuck deletions: each test states the attack or fault and
// asserts its exact outcome, on the real cluster, against sandboxes made by the real server (the real blueprint).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_BOUNDS } from '../../../exercises/checks/common.ts';
import { kubectl, kubectlRaw, waitFor } from '../../../tests/support/kubectl.ts';
import { createCheckContext } from '../../src/cluster/check-context.ts';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import { SESSION_COOKIE } from '../../src/http/session.ts';
import { Reaper } from '../../src/sandboxes/reaper.ts';
import { ownerHash } from '../../src/sandboxes/sandboxes.ts';
import type { RunningServer } from '../../src/server.ts';
import { type ChildServer, Learner, startChildServer, startTestServer } from '../harness.ts';

interface Made {
  id: string;
  namespace: string;
}

let server: RunningServer;
const made: Made[] = [];
const extraNamespaces: string[] = [];

/**
 * A learner with a sandbox made cold by this server's own Sandboxes (the path POST /api/sandboxes takes when the pool
 * is empty). POST itself could hand out a warm sandbox that another test's server, on this shared cluster, made
 * from another version of the blueprint; this file tests this version's.
 */
async function newSandbox(base = server.url): Promise<{ learner: Learner; sandbox: Made }> {
  const learner = new Learner(base);
  await learner.request('GET', '/healthz'); // the session cookie
  const session = learner.cookie.slice(`${SESSION_COOKIE}=`.length).split('.')[0]!;
  const provisioned = await server.sandboxes.provision(ownerHash(session));
  const sandbox = { id: provisioned.id, namespace: provisioned.namespace };
  made.push(sandbox);
  const view = await learner.request('GET', `/api/sandboxes/${sandbox.id}`);
  expect(view.status, JSON.stringify(view.json)).toBe(200);
  return { learner, sandbox };
}

/** kubectl inside a learner's toolbox, with that learner's own ServiceAccount token. */
const asLearner = (ns: string, args: string[], input?: string, timeoutMs = 60_000) =>
  kubectlRaw(['-n', ns, 'exec', '-i', 'toolbox', '-c', 'shell', '--', 'kubectl', ...args], input, timeoutMs);
const inToolbox = (ns: string, script: string, timeoutMs = 60_000) =>
  kubectlRaw(['-n', ns, 'exec', 'toolbox', '-c', 'shell', '--', 'bash', '-c', script], undefined, timeoutMs);

interface QuotaStatus {
  hard: Record<string, string>;
  used: Record<string, string>;
}
/** The sandbox quota's status once the quota controller has counted every resource it limits. */
async function quota(ns: string): Promise<QuotaStatus> {
  return waitFor(
    `the quota of ${ns} to be counted`,
    async () => {
      const status = JSON.parse(
        await kubectl(['-n', ns, 'get', 'resourcequota', 'sandbox-budget', '-o', 'jsonpath={.status}']),
      ) as Partial<QuotaStatus>;
      const complete = status.hard && status.used && Object.keys(status.hard).every((k) => k in status.used!);
      return complete && (status as QuotaStatus);
    },
    30_000,
  );
}

const quotaMessage = (key: string, hard: string) =>
  `exceeded quota: sandbox-budget, requested: ${key}=1, used: ${key}=${hard}, limited: ${key}=${hard}`;

beforeAll(async () => {
  ({ server } = await startTestServer({
    SIDECAR_LAB_CREATE_RATE_PER_MINUTE: '1000',
    // Every Terminating sandbox counts as stuck at once, so the metric test needs no ten-minute wait.
    SIDECAR_LAB_STUCK_TERMINATING_MINUTES: '0',
  }));
});

afterAll(async () => {
  await Promise.all(made.map((s) => kubectlRaw(['delete', 'namespace', s.namespace, '--wait=false'])));
  await Promise.all(extraNamespaces.map((ns) => kubectlRaw(['delete', 'namespace', ns, '--wait=false'])));
  await server?.close();
});

describe('RES-1: a Deployment of 1000 replicas', () => {
  it('gets no more Pods than the quota allows (FailedCreate with the quota message), and another learner still gets a ready sandbox', async () => {
    const { sandbox: flooded } = await newSandbox();
    const ns = flooded.namespace;
    const hard = Number((await quota(ns)).hard.pods);
    const created = await asLearner(ns, [
      'create',
      'deployment',
      'flood',
      '--image=busybox',
      '--replicas=1000',
      '--',
      'sleep',
      '3600',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const refusal = await waitFor(
      'a FailedCreate event with the quota message',
      async () => {
        const events = JSON.parse(
          await kubectl(['-n', ns, 'get', 'events', '--field-selector', 'reason=FailedCreate', '-o', 'json']),
        ) as { items: Array<{ message: string; involvedObject: { kind: string } }> };
        return events.items.find((e) => e.involvedObject.kind === 'ReplicaSet' && /exceeded quota/.test(e.message));
      },
      60_000,
    );
    expect(refusal.message).toMatch(
      /pods "flood-[a-z0-9-]+" is forbidden: exceeded quota: sandbox-budget, requested: /,
    );

    // While the flood keeps the ReplicaSet controller retrying, another learner starts a sandbox.
    const other = new Learner(server.url);
    const posted = await other.request('POST', '/api/sandboxes', {});
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    const next: Made = posted.json;
    made.push(next);
    const ready = await waitFor(
      'the other learner’s sandbox to be ready',
      async () => {
        const view = await other.request('GET', `/api/sandboxes/${next.id}`);
        return view.json?.status === 'ready' && view.json;
      },
      120_000,
    );
    expect(ready.namespace).toBe(next.namespace);

    const pods = (await kubectl(['-n', ns, 'get', 'pods', '-o', 'name'])).trim().split('\n');
    const floodPods = pods.filter((p) => p.startsWith('pod/flood-'));
    const status = await quota(ns);
    expect(Number(status.used.pods)).toBeLessThanOrEqual(hard);
    expect(pods.length).toBeLessThanOrEqual(hard);
    expect(floodPods.length).toBeGreaterThan(0);
    const replicas = Number(
      await kubectl(['-n', ns, 'get', 'deployment', 'flood', '-o', 'jsonpath={.status.replicas}']),
    );
    expect(replicas).toBe(floodPods.length);
    console.info(
      `RES-1: ${floodPods.length} of 1000 replicas created (quota pods ${status.used.pods}/${hard}); refusal: ${refusal.message}`,
    );
    await kubectlRaw(['-n', ns, 'delete', 'deployment', 'flood', '--wait=false']);
  });
});

describe('RES-2: object floods', () => {
  let ns: string;
  beforeAll(async () => {
    ns = (await newSandbox()).sandbox.namespace;
  });

  it.each([
    ['configmaps', 'configmap'],
    ['secrets', 'secret generic'],
  ])('%s of ~1 MiB each stop at the count quota with the API server’s message', async (key, create) => {
    const { hard, used } = await quota(ns);
    const allowed = Number(hard[key]) - Number(used[key]);
    expect(allowed).toBeGreaterThan(0);
    // 1,000,000 bytes: just under the 1 MiB the API server accepts for one ConfigMap's or Secret's data.
    const script =
      'head -c 1000000 /dev/zero | tr "\\0" x > /tmp/blob; ' +
      `for i in $(seq 1 ${allowed + 1}); do ` +
      `if kubectl create ${create} blob-$i --from-file=blob=/tmp/blob >/dev/null 2>/tmp/err; then echo ok; ` +
      'else echo "refused: $(cat /tmp/err)"; fi; done';
    const result = await inToolbox(ns, script, 120_000);
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((l) => l === 'ok')).toHaveLength(allowed);
    expect(lines.at(-1)).toContain(`blob-${allowed + 1}" is forbidden: ${quotaMessage(key, hard[key]!)}`);
    const after = await quota(ns);
    expect(after.used[key]).toBe(hard[key]);
    console.info(`RES-2: ${allowed} ${key} of 1,000,000 bytes admitted, number ${allowed + 1} refused`);
  });

  it('an object whose data is over 1 MiB is refused outright', async () => {
    const result = await inToolbox(
      ns,
      'head -c 2000000 /dev/zero | tr "\\0" x > /tmp/big; kubectl create configmap big --from-file=blob=/tmp/big 2>&1; echo rc=$?',
    );
    expect(result.stdout).toMatch(/Too long: may not be more than 1048576 bytes/);
    expect(result.stdout).toMatch(/rc=1/);
  });

  const template = (name: string, extra = '') =>
    `    metadata: {labels: {app: ${name}}}\n    spec:${extra}\n      containers: [{name: c, image: busybox, command: [sleep, "60"]}]`;
  const kinds: Array<[string, (i: number) => string]> = [
    [
      'count/replicasets.apps',
      (i) =>
        `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: rs-${i}}\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: rs-${i}}}\n  template:\n${template(`rs-${i}`)}`,
    ],
    [
      'count/deployments.apps',
      (i) =>
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d-${i}}\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: d-${i}}}\n  template:\n${template(`d-${i}`)}`,
    ],
    [
      'count/statefulsets.apps',
      (i) =>
        `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ss-${i}}\nspec:\n  replicas: 0\n  serviceName: ss-${i}\n  selector: {matchLabels: {app: ss-${i}}}\n  template:\n${template(`ss-${i}`)}`,
    ],
    [
      'count/daemonsets.apps',
      (i) =>
        `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds-${i}}\nspec:\n  selector: {matchLabels: {app: ds-${i}}}\n  template:\n${template(`ds-${i}`, '\n      nodeSelector: {sidecar-lab.dev/nowhere: "true"}')}`,
    ],
    [
      'count/cronjobs.batch',
      (i) =>
        `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj-${i}}\nspec:\n  schedule: "0 0 1 1 *"\n  suspend: true\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox}]`,
    ],
    [
      'count/jobs.batch',
      (i) =>
        `apiVersion: batch/v1\nkind: Job\nmetadata: {name: j-${i}}\nspec:\n  suspend: true\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]`,
    ],
    ['services', (i) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}}\nspec:\n  ports: [{port: 80}]`],
  ];

  it.each(kinds)('%s: one more than the quota is refused', async (key, object) => {
    const { hard, used } = await quota(ns);
    const allowed = Number(hard[key]) - Number(used[key]);
    const docs = Array.from({ length: allowed + 1 }, (_, i) => object(i + 1)).join('\n---\n');
    const result = await asLearner(ns, ['create', '-f', '-'], docs, 120_000);
    expect(result.stdout.match(/ created$/gm) ?? []).toHaveLength(allowed);
    expect(result.stderr.match(/exceeded quota/g) ?? []).toHaveLength(1);
    expect(result.stderr).toContain(quotaMessage(key, hard[key]!));
  });
});

describe('RES-5: a container logging as fast as it can, followed with kubectl logs -f in the terminal', () => {
  let child: ChildServer;
  let sandbox: Made;
  let learner: Learner;
  beforeAll(async () => {
    child = await startChildServer({}, mkdtempSync(join(tmpdir(), 'slab-resources-')));
    ({ learner, sandbox } = await newSandbox(child.url));
  });
  afterAll(async () => {
    await child?.kill();
  });

  /** Bytes and files of one container's logs on the node: /var/log/pods/<ns>_<pod>_<uid>/<container>/. */
  function logFiles(ns: string, pod: string, container: string) {
    const dirs = readdirSync('/var/log/pods').filter((d) => d.startsWith(`${ns}_${pod}_`));
    let bytes = 0;
    const names: string[] = [];
    for (const dir of dirs) {
      const path = join('/var/log/pods', dir, container);
      let entries: string[] = [];
      try {
        entries = readdirSync(path);
      } catch {
        continue; // removed with the Pod
      }
      for (const name of entries) {
        try {
          bytes += statSync(join(path, name)).size;
          names.push(name);
        } catch {
          // rotated away between listing and stat
        }
      }
    }
    return { bytes, names };
  }

  it('keeps its log files on disk within the kubelet’s rotation bound; checker reads and server memory stay bounded', async () => {
    const kubelet = JSON.parse(
      await kubectl(['get', '--raw', '/api/v1/nodes/sidecar-lab/proxy/configz']),
    ).kubeletconfig;
    expect([kubelet.containerLogMaxSize, kubelet.containerLogMaxFiles, kubelet.containerLogMonitorInterval]).toEqual([
      '10Mi',
      2,
      '3s',
    ]);
    const maxSize = 10 * 2 ** 20;
    const ns = sandbox.namespace;
    const terminal = await learner.terminal(sandbox.id);
    const rssBefore = child.rssKiB();
    // The shell expands $((6*7)), so "flood-line-42" appears only in the container's output, never in the echo.
    terminal.type(
      'kubectl run chatty --image=busybox --restart=Never -- yes flood-line-$((6*7)) && ' +
        'kubectl wait --for=condition=Ready pod/chatty --timeout=90s && kubectl logs -f chatty\r',
    );
    await terminal.waitFor('flood-line-42', 120_000);

    let peak = { bytes: 0, names: [] as string[] };
    let rate = 0; // the fastest growth seen between two samples, bytes per second
    let rotated = false;
    let rssPeak = rssBefore;
    let last = { at: performance.now(), bytes: logFiles(ns, 'chatty', 'chatty').bytes };
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 500));
      terminal.output = terminal.output.slice(-4096);
      const now = { at: performance.now(), ...logFiles(ns, 'chatty', 'chatty') };
      rate = Math.max(rate, ((now.bytes - last.bytes) * 1000) / (now.at - last.at));
      rotated ||= now.names.some((n) => /^0\.log\.\d{8}-\d{6}$/.test(n));
      expect(now.names.length, now.names.join(' ')).toBeLessThanOrEqual(kubelet.containerLogMaxFiles);
      if (now.bytes > peak.bytes) peak = now;
      rssPeak = Math.max(rssPeak, child.rssKiB());
      last = now;
    }
    // Between two rotation checks the live file grows by what the container writes; allow three intervals of it.
    const bound = kubelet.containerLogMaxFiles * (maxSize + rate * 3 * 3);
    console.info(
      `RES-5: log disk peak ${peak.bytes} B in [${peak.names.join(' ')}], write rate ${Math.round(rate)} B/s, bound ${Math.round(bound)} B; server RSS ${rssBefore} → peak ${rssPeak} KiB`,
    );
    expect(rotated).toBe(true);
    expect(peak.bytes).toBeLessThanOrEqual(bound);

    // The checker's log reads carry limitBytes, so a flooding container cannot make it read megabytes.
    const ctx = createCheckContext(loadKubeConfig(), ns);
    // Right after the kubelet rotates, the new file can still be empty (the runtime reopens it a moment later), so a
    // read then is "" — a few reads, each bounded, until one lands on a file with lines in it.
    let bounded: string | undefined = '';
    for (let read = 0; read < 20 && !bounded; read++) {
      if (read > 0) await new Promise((r) => setTimeout(r, 250));
      bounded = await ctx.logs('chatty', 'chatty', LOG_BOUNDS);
      expect(Buffer.byteLength(bounded ?? '')).toBeLessThanOrEqual(LOG_BOUNDS.limitBytes);
    }
    expect(bounded).toMatch(/flood-line-42/);
    const unboundedLines = await ctx.logs('chatty', 'chatty', { tailLines: 10_000_000, limitBytes: 64 * 1024 });
    expect(Buffer.byteLength(unboundedLines ?? '')).toBeLessThanOrEqual(64 * 1024);

    terminal.type('\u0003');
    terminal.type('echo stopped-$((2+3))\r');
    await terminal.waitFor('stopped-5', 30_000);
    await terminal.close();
    await kubectl(['-n', ns, 'delete', 'pod', 'chatty', '--grace-period=0', '--force']);
    expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
    expect(rssPeak - rssBefore, `RSS ${rssBefore} → ${rssPeak} KiB`).toBeLessThan(64 * 1024);
  });

  it('a Pod that fills its disk is evicted at the ephemeral-storage limit the namespace gives it', async () => {
    const ns = sandbox.namespace;
    const run = await asLearner(ns, [
      'run',
      'filler',
      '--image=busybox',
      '--restart=Never',
      '--',
      'sh',
      '-c',
      'dd if=/dev/zero of=/fill bs=1M count=400; sleep 3600',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const limit = await kubectl([
      '-n',
      ns,
      'get',
      'pod',
      'filler',
      '-o',
      'jsonpath={.spec.containers[0].resources.limits.ephemeral-storage}',
    ]);
    expect(limit).toBe('256Mi');
    const status = await waitFor(
      'the filler to be evicted',
      async () => {
        const pod = JSON.parse(await kubectl(['-n', ns, 'get', 'pod', 'filler', '-o', 'json']));
        return pod.status?.reason === 'Evicted' && pod.status;
      },
      150_000,
    );
    expect(status.phase).toBe('Failed');
    expect(status.message).toMatch(/ephemeral (local )?storage.*256Mi/);
    console.info(`RES-5: filler evicted: ${status.message}`);
  });
});

describe('ISO-6: the toolbox token after its sandbox is deleted', () => {
  it('is short-lived and bound to the toolbox Pod; replayed after deletion it gets 401', async () => {
    const { learner, sandbox } = await newSandbox();
    const token = (
      await inToolbox(sandbox.namespace, 'cat /var/run/secrets/kubernetes.io/serviceaccount/token')
    ).stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(3600);
    expect(claims['kubernetes.io'].pod.name).toBe('toolbox');
    expect(claims['kubernetes.io'].serviceaccount.name).toBe('learner');
    const apiServer = (
      await kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])
    ).trim();
    const replay = () =>
      kubectlRaw([
        '--kubeconfig',
        '/dev/null',
        '--server',
        apiServer,
        '--insecure-skip-tls-verify',
        '--token',
        token,
        'get',
        '--raw',
        `/api/v1/namespaces/${sandbox.namespace}/pods`,
      ]);
    expect((await replay()).code).toBe(0);
    expect((await learner.request('DELETE', `/api/sandboxes/${sandbox.id}`)).status).toBe(204);
    const refused = await waitFor(
      'the replayed token to be refused',
      async () => {
        const r = await replay();
        return r.code !== 0 && /Unauthorized/.test(r.stderr) && r;
      },
      120_000,
    );
    expect(refused.stderr).toMatch(/\(Unauthorized\)/);
  });
});

describe('ESC-7: kubectl debug and ephemeral containers', () => {
  let ns: string;
  beforeAll(async () => {
    ns = (await newSandbox()).sandbox.namespace;
    const web = await asLearner(ns, ['run', 'web', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
    expect(web.code, web.stderr).toBe(0);
  });

  it.each([
    ['toolbox', 'sysadmin'],
    ['toolbox', 'netadmin'],
    ['toolbox', 'general'],
    ['web', 'sysadmin'],
    ['web', 'netadmin'],
    ['web', 'general'],
  ])('the learner cannot attach a debug container to %s (profile %s): RBAC refuses', async (pod, profile) => {
    const result = await asLearner(ns, ['debug', pod, '--image=busybox', `--profile=${profile}`, '--', 'true']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/cannot (patch|update) resource "pods\/ephemeralcontainers"/);
  });

  it('were it allowed, Pod Security refuses the sysadmin, netadmin and general profiles and the image policy other images', async () => {
    expect(
      (await asLearner(ns, ['auth', 'can-i', 'patch', 'pods', '--subresource=ephemeralcontainers'])).stdout.trim(),
    ).toBe('no');
    // As an administrator, who may add ephemeral containers: the namespace's own admission still applies.
    const debug = (pod: string, profile: string, image = 'busybox') =>
      kubectlRaw(['-n', ns, 'debug', pod, `--image=${image}`, `--profile=${profile}`, '--', 'true']);
    for (const pod of ['toolbox', 'web']) {
      const sysadmin = await debug(pod, 'sysadmin');
      expect(sysadmin.stderr).toMatch(/violates PodSecurity "baseline:v1\.35": .*privileged \(container/);
      const netadmin = await debug(pod, 'netadmin');
      expect(netadmin.stderr).toMatch(
        /violates PodSecurity "baseline:v1\.35": .*non-default capabilities.*"NET_ADMIN"/,
      );
      // "general" adds SYS_PTRACE, which baseline does not allow either.
      const general = await debug(pod, 'general');
      expect(general.stderr).toMatch(
        /violates PodSecurity "baseline:v1\.35": .*non-default capabilities.*"SYS_PTRACE"/,
      );
      // The "baseline" profile adds nothing Pod Security minds, so the image policy is what refuses this one.
      const image = await debug(pod, 'baseline', 'docker.io/library/alpine:3');
      expect(image.stderr).toContain('this course allows only these images: busybox, nginx');
    }
    const ephemeral = await kubectl(['-n', ns, 'get', 'pod', 'web', '-o', 'jsonpath={.spec.ephemeralContainers}']);
    expect(ephemeral).toBe('');
  });

  it('an init container outside the image allow-list is refused by the admission policy', async () => {
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: sneaky-init}\nspec:\n' +
      '  initContainers: [{name: i, image: "docker.io/library/alpine:3", command: ["true"]}]\n' +
      '  containers: [{name: c, image: busybox, command: [sleep, "60"]}]\n';
    const result = await asLearner(ns, ['create', '-f', '-'], pod);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('this course allows only these images: busybox, nginx');
  });
});

describe('LIFE-4: a sandbox namespace stuck in Terminating', () => {
  /** A finalizer nobody will remove holds a ConfigMap, so its namespace cannot finish deleting. */
  const finalizers = (ns: string, list: string[]) =>
    kubectlRaw([
      '-n',
      ns,
      'patch',
      'configmap',
      'held',
      '--type=merge',
      '-p',
      JSON.stringify({ metadata: { finalizers: list } }),
    ]);
  const hold = async (ns: string) => expect((await finalizers(ns, ['sidecar-lab.dev/test-hold'])).code).toBe(0);
  const release = (ns: string) => finalizers(ns, []);

  it('is reported with its conditions and in sidecar_lab_sandboxes_stuck_terminating; no finalizer is removed', async () => {
    const { learner, sandbox } = await newSandbox();
    // Same prefix, not our label: not ours, so never reported or touched.
    const foreign = `sbx-unmanaged-${randomBytes(4).toString('hex')}`;
    await kubectl(['create', 'namespace', foreign]);
    extraNamespaces.push(foreign);
    try {
      for (const ns of [sandbox.namespace, foreign]) {
        await kubectl(['-n', ns, 'create', 'configmap', 'held']);
        await hold(ns);
      }
      expect((await learner.request('DELETE', `/api/sandboxes/${sandbox.id}`)).status).toBe(204);
      await kubectl(['delete', 'namespace', foreign, '--wait=false']);

      const lines: string[] = [];
      const reaper = new Reaper(
        server.sandboxes,
        pino({ level: 'info' }, { write: (l: string) => lines.push(l) }),
        undefined,
        {
          stuckAfterMs: 0,
        },
      );
      const stuck = await waitFor(
        'the namespace controller to say what blocks the deletion',
        async () => {
          const found = (await reaper.reportStuck()).find((s) => s.namespace === sandbox.namespace);
          return found?.conditions.some((c) => c.type === 'NamespaceFinalizersRemaining') && found;
        },
        60_000,
      );
      expect(stuck.conditions.find((c) => c.type === 'NamespaceFinalizersRemaining')?.message).toContain(
        'sidecar-lab.dev/test-hold',
      );
      expect((await reaper.reportStuck()).map((s) => s.namespace)).not.toContain(foreign);
      const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.namespace === sandbox.namespace);
      expect(logged.at(-1).msg).toMatch(/has been Terminating for \d+ min; .*NamespaceFinalizersRemaining/);

      // The server's own reaper (threshold 0 in this file) exposes it; the gauge counts every stuck sandbox.
      await server.reaper.sweep();
      await server.reaper.sweep();
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const gauge = Number(/^sidecar_lab_sandboxes_stuck_terminating (\d+)$/m.exec(metrics)?.[1]);
      expect(gauge).toBeGreaterThanOrEqual(1);

      // Nothing was stripped: the ConfigMaps keep their finalizer and both namespaces keep theirs.
      for (const ns of [sandbox.namespace, foreign]) {
        expect(await kubectl(['-n', ns, 'get', 'configmap', 'held', '-o', 'jsonpath={.metadata.finalizers}'])).toBe(
          '["sidecar-lab.dev/test-hold"]',
        );
        expect(await kubectl(['get', 'ns', ns, '-o', 'jsonpath={.status.phase} {.spec.finalizers}'])).toBe(
          'Terminating ["kubernetes"]',
        );
      }
    } finally {
      await release(sandbox.namespace);
      await release(foreign);
    }
    // Once whatever held it lets go, the namespace goes and the reaper stops reporting it.
    await waitFor(
      'the released namespace to be gone',
      async () => (await kubectlRaw(['get', 'ns', sandbox.namespace])).code !== 0,
      60_000,
    );
    const reaper = new Reaper(server.sandboxes, pino({ level: 'silent' }), undefined, { stuckAfterMs: 0 });
    expect((await reaper.reportStuck()).map((s) => s.namespace)).not.toContain(sandbox.namespace);
  });
});
