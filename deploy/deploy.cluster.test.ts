// The server as a Kubernetes workload: `npm run deploy:local` builds its image, deploys it with least privilege, and
// a learner's whole round trip works through the Service — with the server's own identity, not an administrator's.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Learner } from '../sandbox-server/test/harness.ts';
import { LOCAL_NODE_IP } from '../tests/support/database-global-setup.ts';
import { kubectl, kubectlRaw, waitFor } from '../tests/support/kubectl.ts';
import { freshDatabase } from '../tests/support/store-backends.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const URL_LINE = /^Sidecar Lab is deployed: (http:\/\/\S+)$/m;
const SERVER = 'system:serviceaccount:sidecar-lab:sidecar-lab-server';
let url: string;

function deployLocal(): Promise<string> {
  return new Promise((resolve, reject) => {
    // The Node.js running the tests is the one the image gets (>= 22.18), whatever `node` the PATH has first.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
    execFile('bash', [join(root, 'deploy/deploy-local.sh')], { env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const match = URL_LINE.exec(stdout);
      if (error || !match) reject(new Error(`deploy:local failed: ${error?.message ?? ''}\n${stderr.slice(-3000)}`));
      else resolve(match[1]!);
    });
  });
}

const serverLogs = () => kubectl(['-n', 'sidecar-lab', 'logs', 'deployment/sidecar-lab-server', '--tail=-1']);

beforeAll(async () => {
  url = await deployLocal();
}, 900_000);

afterAll(async () => {
  // The deployed server keeps a warm pool of its own; nothing of it outlives the test.
  await kubectlRaw(['delete', 'namespace', 'sidecar-lab', '--wait=true', '--timeout=120s'], undefined, 150_000);
  await kubectlRaw(['delete', 'namespace', '-l', 'sidecar-lab.dev/instance=deployed', '--wait=false']);
});

describe('npm run deploy:local', () => {
  it('runs the server as a non-root user on a read-only root filesystem, configured from inside the cluster', async () => {
    const pod = JSON.parse(
      await kubectl(['-n', 'sidecar-lab', 'get', 'pod', '-l', 'app.kubernetes.io/component=server', '-o', 'json']),
    ).items[0];
    expect(pod.spec.serviceAccountName).toBe('sidecar-lab-server');
    const exec = (script: string) =>
      kubectlRaw(['-n', 'sidecar-lab', 'exec', pod.metadata.name, '--', 'sh', '-c', script]);
    expect((await exec('id -u')).stdout.trim()).toBe('10001');
    const write = await exec('touch /app/x');
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    // No kubeconfig anywhere: the client uses the ServiceAccount's token and the cluster's CA.
    expect((await exec('ls /var/run/secrets/kubernetes.io/serviceaccount')).stdout).toMatch(/token/);
    expect((await exec('env')).stdout).not.toMatch(/^KUBECONFIG=/m);
    expect(await serverLogs()).toMatch(/"cluster":"kubeconfig"/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('serves a learner end to end: sandbox, exercise set-up, terminal, a passing check, deletion', async () => {
    const learner = new Learner(url);
    const created = await learner.request('POST', '/api/sandboxes', { exercise: 'first-sidecar' });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const sandbox = created.json as { id: string; namespace: string };
    const solution = readFileSync(join(root, 'exercises/first-sidecar/solution/pod.yaml'), 'utf8');
    const written = await learner.request('POST', `/api/sandboxes/${sandbox.id}/files`, {
      path: 'pod.yaml',
      content: solution,
    });
    expect(written.status).toBe(204);
    const terminal = await learner.terminal(sandbox.id, url);
    terminal.type(
      'kubectl apply -f pod.yaml && kubectl wait --for=condition=Ready pod --all --timeout=120s; echo done-$((6*7))\r',
    );
    await terminal.waitFor('done-42', 150_000);
    await terminal.close();
    // Checks run as the checker, impersonated by the server; every one passes on the reference solution.
    const report = await learner.request('POST', `/api/sandboxes/${sandbox.id}/checks/first-sidecar`, {});
    expect(report.status, JSON.stringify(report.json)).toBe(200);
    const checks = (report.json as { checks: { id: string; status: string; message: string }[] }).checks;
    expect(
      checks.filter((c) => c.status !== 'pass'),
      JSON.stringify(checks),
    ).toEqual([]);
    expect((await learner.request('DELETE', `/api/sandboxes/${sandbox.id}`)).status).toBe(204);
    // Nothing the server did was refused by RBAC.
    expect(await serverLogs()).not.toMatch(/HTTP 403/);
  });

  it('holds no right it only grants: it cannot read Secrets, run workloads or escalate anywhere', async () => {
    const can = async (...args: string[]) =>
      (await kubectlRaw(['auth', 'can-i', ...args, '--as', SERVER])).stdout.trim() === 'yes';
    expect(await can('create', 'namespaces')).toBe(true);
    expect(await can('bind', 'clusterroles/sidecar-lab:learner')).toBe(true);
    expect(await can('create', 'pods/exec', '-n', 'some-sandbox')).toBe(true);
    expect(await can('get', 'secrets', '-n', 'kube-system')).toBe(false);
    expect(await can('list', 'secrets', '-n', 'sidecar-lab')).toBe(false);
    expect(await can('create', 'deployments', '-n', 'default')).toBe(false);
    expect(await can('create', 'clusterrolebindings')).toBe(false);
    expect(await can('bind', 'clusterroles/cluster-admin')).toBe(false);
    expect(await can('escalate', 'clusterroles')).toBe(false);
    expect(await can('update', 'clusterroles/sidecar-lab:learner')).toBe(false);
    // A Pod's web preview goes through pods/proxy as the sandbox's learner: that one ServiceAccount name, no other.
    expect(await can('impersonate', 'serviceaccounts/learner', '-n', 'some-sandbox')).toBe(true);
    expect(await can('impersonate', 'serviceaccounts/default', '-n', 'some-sandbox')).toBe(false);
    expect(await can('impersonate', 'users')).toBe(false);
  });
});

describe('two replicas on PostgreSQL', () => {
  it("keep a learner's sandbox, progress and terminal screen while a rolling update replaces every Pod", async () => {
    // The tests' throwaway PostgreSQL also listens on the node's address for the cluster's Pods.
    const database = new URL(await freshDatabase());
    database.hostname = LOCAL_NODE_IP;
    await kubectl([
      '-n',
      'sidecar-lab',
      'create',
      'secret',
      'generic',
      'sidecar-lab-database',
      `--from-literal=url=${database.href}`,
    ]);
    // NetworkPolicies add up: the local overlay lets the server reach the API server; this one lets it reach the database.
    await kubectl(
      ['-n', 'sidecar-lab', 'apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'sidecar-lab-server-database', namespace: 'sidecar-lab' },
        spec: {
          podSelector: { matchLabels: { 'app.kubernetes.io/component': 'server' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: `${LOCAL_NODE_IP}/32` } }], ports: [{ port: Number(database.port) }] }],
        },
      }),
    );
    const deployment = ['-n', 'sidecar-lab', 'deployment/sidecar-lab-server'];
    await kubectl([
      'patch',
      ...deployment,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } },
      }),
    ]);
    const rollOut = async () => {
      await kubectl(['rollout', 'restart', ...deployment]);
      await kubectl(['rollout', 'status', ...deployment, '--timeout=300s'], undefined, 330_000);
    };
    await rollOut();
    const serverPods = async () =>
      JSON.parse(
        await kubectl(['-n', 'sidecar-lab', 'get', 'pod', '-l', 'app.kubernetes.io/component=server', '-o', 'json']),
      ).items.filter((p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp) as {
        metadata: { name: string };
      }[];
    expect(await serverPods()).toHaveLength(2);

    const learner = new Learner(url);
    const created = await learner.request('POST', '/api/sandboxes', {});
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const { id, namespace } = created.json as { id: string; namespace: string };
    expect((await learner.request('POST', '/api/progress/lessons/introduction')).status).toBe(204);
    const terminal = await learner.terminal(id, url);
    terminal.type('echo before-the-rollout-$((6*7))\r');
    await terminal.waitFor('before-the-rollout-42');
    const before = (await serverPods()).map((p) => p.metadata.name);

    // Every Pod is replaced, one at a time; the terminal's connection goes with the Pod that held it.
    await rollOut();
    const after = (await serverPods()).map((p) => p.metadata.name);
    expect(after.filter((name) => before.includes(name))).toEqual([]);
    await waitFor(
      'the terminal connection to end with its Pod',
      async () => terminal.ws.readyState === WebSocket.CLOSED,
    );

    const again = await learner.terminal(id, url);
    await again.waitFor('before-the-rollout-42');
    again.type('echo after-the-rollout-$((6*7))\r');
    await again.waitFor('after-the-rollout-42');
    await again.close();
    const found = await learner.request('GET', `/api/sandboxes/${id}`);
    expect(found.json).toMatchObject({ id, namespace, status: 'ready' });
    expect((await learner.request('GET', '/api/progress')).json.lessonsRead).toContain('introduction');
    // The Lease that elects the pool keeper moved to one of the new Pods.
    await waitFor('a new Pod to hold the pool Lease', async () => {
      const holder = await kubectl([
        '-n',
        'sidecar-lab',
        'get',
        'lease',
        '-o',
        'jsonpath={.items[*].spec.holderIdentity}',
      ]);
      return after.some((name) => holder.includes(name));
    });
    expect((await learner.request('DELETE', `/api/sandboxes/${id}`)).status).toBe(204);
  });
});
