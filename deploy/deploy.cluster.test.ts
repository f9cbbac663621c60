// The server as a Kubernetes workload: `npm run deploy:local` builds its images and deploys two replicas sharing an
// in-cluster PostgreSQL with least privilege; a learner's whole round trip works through the Service — with the
// server's own identity, not an administrator's — and survives the replica that holds their terminal going away.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Learner } from '../sandbox-server/test/harness.ts';
import { endSandbox, launchChromium, recordPanelStates } from '../tests/support/e2e-browser.ts';
import { ensureChromium } from '../tests/support/e2e-global-setup.ts';
import { kubectl, kubectlRaw, waitFor } from '../tests/support/kubectl.ts';
import { allReady, openTerminals, rollOutStatus, serverPods, sql } from './deployed.ts';

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

/** Every server replica's log. */
const serverLogs = () =>
  kubectl(['-n', 'sidecar-lab', 'logs', '-l', 'app.kubernetes.io/component=server', '-c', 'server', '--tail=-1']);

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

  it('runs two Ready replicas on the in-cluster PostgreSQL, which only the server reaches', async () => {
    await waitFor('two Ready server replicas', () => allReady('server', 2));
    const [database] = (await waitFor('a Ready PostgreSQL', () => allReady('database', 1)))!;
    // The servers migrated it: they use it, not SQLite on their own volumes.
    expect(Number(await sql('SELECT max(version) FROM schema_version'))).toBeGreaterThanOrEqual(1);
    const [a] = await serverPods();
    // A Pod of the same namespace that is not the server: it reaches the server's port but not the database's.
    const probe = `network-probe-${Date.now()}`;
    await kubectl(
      ['-n', 'sidecar-lab', 'apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: probe, namespace: 'sidecar-lab' },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'probe',
              image: 'busybox',
              command: ['sleep', '600'],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      }),
    );
    try {
      await kubectl(['-n', 'sidecar-lab', 'wait', '--for=condition=Ready', `pod/${probe}`, '--timeout=120s']);
      const connects = async (host: string, port: number) =>
        (await kubectlRaw(['-n', 'sidecar-lab', 'exec', probe, '--', 'sh', '-c', `nc -w 3 ${host} ${port} </dev/null`]))
          .code === 0;
      expect(await connects(new URL(a!.url).hostname, 4321)).toBe(true);
      expect(await connects(database!.status.podIP!, 5432)).toBe(false);
    } finally {
      await kubectlRaw(['-n', 'sidecar-lab', 'delete', 'pod', probe, '--wait=false']);
    }
  });

  it('serves a learner end to end: sandbox, exercise set-up, terminal, a passing check seen by both replicas', async () => {
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
    // Checks run as the checker, impersonated by the server; every one passes on the reference solution. The check
    // goes to one replica and the progress is read from the other: what one stores, both know.
    const [a, b] = await serverPods();
    const report = await Object.assign(new Learner(a!.url), { cookie: learner.cookie }).request(
      'POST',
      `/api/sandboxes/${sandbox.id}/checks/first-sidecar`,
      {},
    );
    expect(report.status, JSON.stringify(report.json)).toBe(200);
    const checks = (report.json as { checks: { id: string; status: string; message: string }[] }).checks;
    expect(
      checks.filter((c) => c.status !== 'pass'),
      JSON.stringify(checks),
    ).toEqual([]);
    const progress = await Object.assign(new Learner(b!.url), { cookie: learner.cookie }).request(
      'GET',
      '/api/progress',
    );
    expect(progress.json.exercisesPassed).toContain('first-sidecar');
    const passes = await sql("SELECT count(*) FROM check_runs WHERE exercise = 'first-sidecar' AND status = 'pass'");
    expect(Number(passes)).toBeGreaterThanOrEqual(1);
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

describe("a learner's browser through the Service", () => {
  let browser: Browser | undefined;
  let page: Page | undefined;
  afterAll(async () => {
    await endSandbox(page);
    await browser?.close();
  });

  it('reconnects the terminal through the other replica to the same screen when its Pod is deleted', async () => {
    ensureChromium();
    browser = await launchChromium();
    page = await (await browser.newContext({ baseURL: url, viewport: { width: 1440, height: 900 } })).newPage();
    const panel = page.getByRole('complementary', { name: 'Terminal' });
    const terminalText = async () => (await page!.locator('.xterm-rows').textContent()) ?? '';
    await page.goto('/lessons/introduction/');
    await panel.getByRole('button', { name: 'Start sandbox' }).click();
    await panel.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 120_000 });
    await page.locator('.xterm').click();
    await page.keyboard.type('echo typed-before-$((40+2))\n');
    await expect.poll(terminalText, { timeout: 120_000, interval: 250 }).toContain('typed-before-42');
    const sandboxId = await page.evaluate(() => localStorage.getItem('sidecar-lab:sandbox-id'));
    // Progress to keep: the lesson marked read, as the page does when the learner finishes it.
    const read = await page.evaluate(
      async () => (await fetch('/api/progress/lessons/introduction', { method: 'POST' })).status,
    );
    expect(read).toBe(204);
    const progressBefore = await page.evaluate(async () => (await fetch('/api/progress')).json());
    expect(progressBefore.lessonsRead).toContain('introduction');

    // The replica the Service sent the terminal's WebSocket to: the one whose metrics count it.
    const holder = await waitFor('one replica to hold the terminal', async () => {
      const pods = await serverPods();
      const counts = await Promise.all(pods.map(openTerminals));
      return counts.filter((n) => n > 0).length === 1 ? pods[counts.findIndex((n) => n > 0)] : undefined;
    });
    const states = await recordPanelStates(page);
    const deletedAt = Date.now();
    await kubectl(['-n', 'sidecar-lab', 'delete', 'pod', holder!.name, '--wait=false']);
    await expect.poll(states, { timeout: 120_000, interval: 100 }).toContain('reconnecting');
    await expect.poll(async () => (await states()).at(-1), { timeout: 120_000, interval: 100 }).toBe('connected');
    await page.locator('.xterm').click();
    await page.keyboard.type('echo typed-after-$((40+2))\n');
    await expect.poll(terminalText, { timeout: 120_000, interval: 250 }).toContain('typed-after-42');
    const answeredAfterMs = Date.now() - deletedAt;

    // tmux kept the screen; the page kept its sandbox; the database kept the progress.
    expect(await terminalText()).toContain('typed-before-42');
    expect(await page.evaluate(() => localStorage.getItem('sidecar-lab:sandbox-id'))).toBe(sandboxId);
    expect(await page.evaluate(async (id) => (await fetch(`/api/sandboxes/${id}`)).status, sandboxId)).toBe(200);
    expect(await page.evaluate(async () => (await fetch('/api/progress')).json())).toEqual(progressBefore);
    // The terminal is now held by another replica than the deleted one.
    const now = await serverPods();
    const counts = await Promise.all(now.filter((p) => p.ready).map(async (p) => [p.name, await openTerminals(p)]));
    expect(counts.filter(([, n]) => Number(n) > 0).map(([name]) => name)).not.toContain(holder!.name);

    // A measurement for the closing note and README, not a bound: from the Pod's deletion to the shell answering
    // through the other replica (the deleted Pod serves on for its 5 s preStop, then closes its terminals).
    mkdirSync('test-results/screenshots', { recursive: true });
    writeFileSync('test-results/deployed-failover.json', `${JSON.stringify({ answeredAfterMs }, null, 2)}\n`);
    await page.screenshot({ path: 'test-results/screenshots/deployed-failover.png' });
    await endSandbox(page);
    // The Deployment replaced the Pod: two replicas again for what follows.
    await waitFor('two Ready server replicas again', () => allReady('server', 2), 300_000);
  });
});

describe('two replicas on the shared PostgreSQL', () => {
  it("keep a learner's sandbox, progress and terminal screen while a rolling update replaces every Pod", async () => {
    const deployment = ['-n', 'sidecar-lab', 'deployment/sidecar-lab-server'];
    const rollOut = async () => {
      await kubectl(['rollout', 'restart', ...deployment]);
      await rollOutStatus('sidecar-lab-server');
    };
    expect(await serverPods()).toHaveLength(2);

    const learner = new Learner(url);
    const created = await learner.request('POST', '/api/sandboxes', {});
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const { id, namespace } = created.json as { id: string; namespace: string };
    expect((await learner.request('POST', '/api/progress/lessons/introduction')).status).toBe(204);
    const terminal = await learner.terminal(id, url);
    terminal.type('echo before-the-rollout-$((6*7))\r');
    await terminal.waitFor('before-the-rollout-42');
    const before = (await serverPods()).map((p) => p.name);

    // Every Pod is replaced, one at a time; the terminal's connection goes with the Pod that held it.
    await rollOut();
    const after = (await serverPods()).map((p) => p.name);
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
