// Hardening — sessions: a burst of claims against the warm pool, and terminals opened and closed over and over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, waitFor } from '../../../tests/support/kubectl.ts';
import { LABELS } from '../../src/cluster/labels.ts';
import type { RunningServer } from '../../src/server.ts';
import { deleteInstanceNamespaces, Learner, startTestServer, testInstance, tmuxClients } from '../harness.ts';

const POOL = 4;
const BURST = 12;
const instance = testInstance();
let server: RunningServer;
const created = new Set<string>();

beforeAll(async () => {
  ({ server } = await startTestServer({ SIDECAR_LAB_POOL_SIZE: String(POOL), SIDECAR_LAB_INSTANCE: instance }));
});

afterAll(async () => {
  await server?.close();
  await deleteInstanceNamespaces(instance, created);
});

describe('a burst of claims against the warm pool (LIFE-7)', () => {
  it(`gives each of ${BURST} simultaneous learners their own sandbox: ${POOL} from the pool, the rest built cold`, async () => {
    await waitFor('a full warm pool', async () => (await server.pool.claimable()) >= POOL, 180_000);
    server.pool.stop(); // no refill during the burst: every warm sandbox there is now was made before it
    const warmBefore = new Set(
      (await kubectl(['get', 'ns', '-l', `${LABELS.instance}=${instance},${LABELS.pool}=warm`, '-o', 'name']))
        .split('\n')
        .filter(Boolean)
        .map((n) => n.replace('namespace/', '')),
    );
    expect(warmBefore.size).toBe(POOL);

    const learners = Array.from({ length: BURST }, () => new Learner(server.url));
    const answers = await Promise.all(learners.map((l) => l.request('POST', '/api/sandboxes', {})));
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.json)).toBe(201);
    const namespaces = answers.map((a) => a.json.namespace as string);
    for (const ns of namespaces) created.add(ns);

    // Exactly one learner per namespace: the resourceVersion precondition let no warm sandbox go to two.
    expect(new Set(namespaces).size).toBe(BURST);
    expect(namespaces.filter((ns) => warmBefore.has(ns)).length).toBe(POOL);
    const owners = await Promise.all(
      namespaces.map((ns) => kubectl(['get', 'ns', ns, '-o', `jsonpath={.metadata.labels.sidecar-lab\\.dev/owner}`])),
    );
    expect(new Set(owners).size).toBe(BURST);
    for (const owner of owners) expect(owner).toMatch(/^[0-9a-f]{40}$/);
    // And each learner's sandbox is the one they are told about.
    const views = await Promise.all(learners.map((l, i) => l.request('GET', `/api/sandboxes/${answers[i]!.json.id}`)));
    for (const view of views) expect(view.status).toBe(200);
  });
});

describe('a warm pool left by an older blueprint', () => {
  it('is retired by a server with another blueprint, whose learners get sandboxes of their own blueprint', async () => {
    const shared = testInstance();
    const { server: older } = await startTestServer({ SIDECAR_LAB_POOL_SIZE: '1', SIDECAR_LAB_INSTANCE: shared });
    await waitFor('the older warm sandbox', async () => (await older.pool.claimable()) >= 1, 120_000);
    await older.close();
    const [stale] = await older.sandboxes.list(`${LABELS.instance}=${shared},${LABELS.pool}=warm`);
    expect(stale).toBeDefined();

    const { server: newer } = await startTestServer({
      SIDECAR_LAB_POOL_SIZE: '1',
      SIDECAR_LAB_INSTANCE: shared,
      SIDECAR_LAB_QUOTA_PODS: '19',
    });
    try {
      expect(newer.sandboxes.blueprint).not.toBe(older.sandboxes.blueprint);
      await waitFor('a warm sandbox of the new blueprint', async () => (await newer.pool.claimable()) >= 1, 120_000);
      const staleNow = await kubectl(['get', 'ns', stale!.namespace, '-o', 'jsonpath={.status.phase}']).catch(() => '');
      expect(['', 'Terminating']).toContain(staleNow);
      const learner = new Learner(newer.url);
      const { json: sandbox } = await learner.request('POST', '/api/sandboxes', {});
      created.add(sandbox.namespace);
      expect(sandbox.namespace).not.toBe(stale!.namespace);
      const pods = await kubectl([
        '-n',
        sandbox.namespace,
        'get',
        'resourcequota',
        'sandbox-budget',
        '-o',
        'jsonpath={.spec.hard.pods}',
      ]);
      expect(pods).toBe('19');
    } finally {
      await newer.close();
      await deleteInstanceNamespaces(shared);
    }
  });
});

describe('terminals opened and closed again and again', () => {
  it('leave no tmux client behind, and two tabs of one learner both stay attached', async () => {
    const learner = new Learner(server.url);
    const { json: sandbox } = await learner.request('POST', '/api/sandboxes', {});
    created.add(sandbox.namespace);
    // Guards against a hang, not measurements: a loaded 2-core machine can take seconds for an echo.
    const ANSWER_MS = 60_000;
    for (let i = 0; i < 10; i++) {
      const terminal = await learner.terminal(sandbox.id);
      terminal.type(`echo round-$((${i}+100))\r`);
      await terminal.waitFor(`round-${i + 100}`, ANSWER_MS);
      await terminal.close();
    }
    const first = await learner.terminal(sandbox.id);
    const second = await learner.terminal(sandbox.id);
    second.type('echo from-second-$((2*21))\r');
    await first.waitFor('from-second-42', ANSWER_MS); // the same tmux session, shown in both tabs
    // The last round's client goes when its detach has run, a moment after its connection closed; one that stayed
    // would keep the count above two.
    await waitFor('exactly the two tabs attached', async () => (await tmuxClients(sandbox.namespace)) === 2, ANSWER_MS);
    await first.close();
    await second.close();
    await waitFor('every tmux client to be gone', async () => (await tmuxClients(sandbox.namespace)) === 0, ANSWER_MS);
    // Nor the files that name each connection's client.
    const left = await kubectl(['-n', sandbox.namespace, 'exec', 'toolbox', '-c', 'shell', '--', 'ls', '-a', '/tmp']);
    expect(left.split('\n').filter((f) => f.startsWith('.sidecar-lab-client-'))).toEqual([]);
  });
});

describe('a terminal left idle longer than the kubelet’s streaming idle timeout (LIFE-8)', () => {
  // The local cluster's kubelet closes exec streams idle for 5 minutes (streamingConnectionIdleTimeout: 5m).
  const IDLE_MS = 5 * 60_000 + 20_000;

  it('stays open and answers the next keystroke, with no reconnect', { timeout: IDLE_MS + 120_000 }, async () => {
    const learner = new Learner(server.url);
    const { json: sandbox } = await learner.request('POST', '/api/sandboxes', {});
    created.add(sandbox.namespace);
    const terminal = await learner.terminal(sandbox.id);
    terminal.type('echo before-$((6*7))\r');
    await terminal.waitFor('before-42');
    let closed = '';
    terminal.ws.on('close', (code, reason) => {
      closed = `${code} ${reason}`;
    });
    await new Promise((r) => setTimeout(r, IDLE_MS));
    expect(closed).toBe('');
    terminal.type('echo after-$((6*8))\r');
    await terminal.waitFor('after-48');
    await terminal.close();
  });
});
