// Save and restore on the real server and cluster: a learner's files and three kinds of objects outlive their
// sandbox's expiry and come back in the next one, with the same check verdicts; the save downloads as clean
// manifests; a tampered save is refused without touching the new sandbox, and an oversized one is refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubectl, kubectlRaw, waitFor } from '../../tests/support/kubectl.ts';
import type { RunningServer } from '../src/server.ts';
import { deleteInstanceNamespaces, Learner, startTestServer, testInstance } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields one by one and assert each.
type Json = any;

const POD = readFileSync('exercises/first-sidecar/solution/pod.yaml', 'utf8');
/** The exercise's Pod, as its reference solution names it. */
const POD_NAME = (parse(POD) as { metadata: { name: string } }).metadata.name;
const EXTRA = `apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
data:
  message: hello again
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
`;

let server: RunningServer;
let dataDir: string;
const instance = testInstance();
const created: string[] = [];
const learner = () => shared.learner;
const shared: { learner: Learner; first?: Json; verdicts?: Record<string, string> } = {
  learner: undefined as never,
};

beforeAll(async () => {
  ({ server, dataDir } = await startTestServer({
    SIDECAR_LAB_INSTANCE: instance,
    SIDECAR_LAB_SAVE_MAX_KIB: '64',
  }));
  shared.learner = new Learner(server.url);
});

afterAll(async () => {
  await server?.close();
  await deleteInstanceNamespaces(instance, created);
});

async function newSandbox(): Promise<Json> {
  const response = await learner().request('POST', '/api/sandboxes', {});
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  created.push(response.json.namespace);
  return response.json;
}

/** Runs a command in the toolbox as the learner's terminal would (their identity, their home folder). */
function shell(namespace: string, command: string): Promise<string> {
  return kubectl(['-n', namespace, 'exec', 'toolbox', '-c', 'shell', '--', 'bash', '-lc', command]);
}

async function verdicts(id: string): Promise<Record<string, string>> {
  const report = await learner().request('POST', `/api/sandboxes/${id}/checks/first-sidecar`, {});
  expect(report.status, JSON.stringify(report.json)).toBe(200);
  return Object.fromEntries(report.json.checks.map((c: Json) => [c.id, c.status]));
}

const podReady = (namespace: string) =>
  kubectl(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${POD_NAME}`, '--timeout=180s']);

const allPass = (v: Record<string, string>) => Object.values(v).every((s) => s === 'pass');

describe('a learner’s work outlives their sandbox', () => {
  it('before: files and a ConfigMap, a Service and a Pod, with every check passing', async () => {
    const sandbox = await newSandbox();
    shared.first = sandbox;
    for (const [path, content] of [
      ['pod.yaml', POD],
      ['extra.yaml', EXTRA],
      ['notes/today.txt', 'sidecars share the network\n'],
    ] as const) {
      expect((await learner().request('POST', `/api/sandboxes/${sandbox.id}/files`, { path, content })).status).toBe(
        204,
      );
    }
    await shell(sandbox.namespace, 'kubectl apply -f pod.yaml -f extra.yaml');
    await podReady(sandbox.namespace);
    shared.verdicts = await waitFor(
      'every check to pass',
      async () => {
        const v = await verdicts(sandbox.id);
        return allPass(v) && v;
      },
      180_000,
    );
  });

  it('the reaper saves it when the sandbox expires, then deletes the sandbox', async () => {
    const { namespace } = shared.first;
    // Its idle period over; the sweep at once, so this server's reaper is the one that finds it (other servers'
    // reapers share the cluster; the reaper then holds the namespace while it saves).
    const past = new Date(Date.now() - 1_000).toISOString();
    await kubectl(['annotate', 'ns', namespace, `sidecar-lab.dev/expires-at=${past}`, '--overwrite']);
    await server.reaper.sweep();
    const phase = await kubectlRaw(['get', 'ns', namespace, '-o', 'jsonpath={.status.phase}']);
    expect(phase.code !== 0 || phase.stdout === 'Terminating').toBe(true);
    const saved = await learner().request('GET', '/api/saves/mine');
    expect(saved.status).toBe(200);
    expect(saved.json.reason).toBe('idle');
    expect(saved.json.objects).toEqual(['ConfigMap/greeting', 'Service/web', `Pod/${POD_NAME}`]);
  });

  it('comes back in the next sandbox: files, objects, the terminal says so, and the checks agree', async () => {
    const sandbox = await newSandbox();
    expect(sandbox.restore?.restored, JSON.stringify(sandbox.restore)).toBe(true);
    expect(sandbox.restore.message).toContain(`ConfigMap/greeting, Service/web, Pod/${POD_NAME}`);
    expect(await shell(sandbox.namespace, 'cat notes/today.txt')).toBe('sidecars share the network\n');
    expect(await shell(sandbox.namespace, 'cat pod.yaml')).toBe(POD);
    expect(
      await kubectl(['-n', sandbox.namespace, 'get', 'configmap', 'greeting', '-o', 'jsonpath={.data.message}']),
    ).toBe('hello again');
    expect(
      await kubectl(['-n', sandbox.namespace, 'get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].port}']),
    ).toBe('80');
    const terminal = await learner().terminal(sandbox.id);
    await terminal.waitFor('[sidecar-lab] Restored your work', 30_000);
    await terminal.close();
    await podReady(sandbox.namespace);
    await waitFor(
      'the same verdicts as before the expiry',
      async () => {
        const v = await verdicts(sandbox.id);
        return JSON.stringify(v) === JSON.stringify(shared.verdicts);
      },
      180_000,
    );
    shared.first = sandbox;
  });

  it('downloads as a tar of clean manifests and the home folder', async () => {
    const response = await fetch(`${server.url}/api/saves/mine.tar.gz`, { headers: { cookie: learner().cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/gzip');
    const dir = mkdtempSync(join(tmpdir(), 'slab-save-'));
    writeFileSync(join(dir, 'save.tar.gz'), Buffer.from(await response.arrayBuffer()));
    execFileSync('tar', ['xzf', 'save.tar.gz'], { cwd: dir });
    const yaml = readFileSync(join(dir, 'manifests.yaml'), 'utf8');
    expect(yaml).toContain(`name: ${POD_NAME}`);
    expect(yaml).toContain('message: hello again');
    for (const noise of ['uid:', 'resourceVersion', 'managedFields', 'status:', 'creationTimestamp', 'clusterIP']) {
      expect(yaml, noise).not.toContain(noise);
    }
    const home = execFileSync('tar', ['tzf', 'home.tar.gz'], { cwd: dir, encoding: 'utf8' });
    expect(home).toContain('./notes/today.txt');
  });

  it('refuses a save over the limit with a message naming it, and leaves the sandbox running', async () => {
    const { id, namespace } = shared.first;
    await shell(namespace, 'head -c 200000 /dev/urandom > big.bin');
    const refused = await learner().request('POST', `/api/sandboxes/${id}/save`, { stop: true });
    expect(refused.status).toBe(413);
    expect(refused.json.error.message).toMatch(/too large to save .* the limit is 64 KiB/);
    expect(await kubectl(['get', 'ns', namespace, '-o', 'jsonpath={.status.phase}'])).toBe('Active');
    await shell(namespace, 'rm big.bin');
    // Within the limit, "Save and stop" saves and ends the sandbox.
    const saved = await learner().request('POST', `/api/sandboxes/${id}/save`, { stop: true });
    expect(saved.status, JSON.stringify(saved.json)).toBe(201);
    expect(saved.json.reason).toBe('save-and-stop');
    await waitFor('the sandbox to stop', async () => {
      const phase = await kubectlRaw(['get', 'ns', namespace, '-o', 'jsonpath={.status.phase}']);
      return phase.code !== 0 || phase.stdout === 'Terminating';
    });
  });

  it('refuses a save changed in the database, without touching the new sandbox', async () => {
    const db = new DatabaseSync(join(dataDir, 'sidecar-lab.db'));
    db.prepare("UPDATE saves SET manifests = replace(manifests, 'hello again', 'hello from elsewhere')").run();
    db.close();
    const sandbox = await newSandbox();
    expect(sandbox.restore).toEqual({
      restored: false,
      message: 'your saved work was changed after it was saved, so it was not restored',
    });
    expect((await kubectlRaw(['-n', sandbox.namespace, 'get', 'configmap', 'greeting'])).code).not.toBe(0);
    expect(await shell(sandbox.namespace, 'test ! -e notes && test ! -e pod.yaml && echo untouched')).toBe(
      'untouched\n',
    );
  });

  it('a learner deletes their save', async () => {
    expect((await learner().request('DELETE', '/api/saves/mine')).status).toBe(204);
    expect((await learner().request('GET', '/api/saves/mine')).status).toBe(404);
  });
});
