// Sandbox lifecycle on the real cluster: warm pool, reaper, limits, and the API's answers to bad input.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlRaw, waitFor } from '../../tests/support/kubectl.ts';
import { ANNOTATIONS, LABELS } from '../src/cluster/labels.ts';
import type { RunningServer } from '../src/server.ts';
import { deleteInstanceNamespaces, Learner, startTestServer, testInstance } from './harness.ts';

let server: RunningServer;
const created: string[] = [];
const instance = testInstance();

beforeAll(async () => {
  // The cap counts every claimed sandbox on the cluster; leave room for exactly two of ours.
  const live = await kubectl([
    'get',
    'ns',
    '-l',
    `${LABELS.managed}=true,${LABELS.pool}=claimed`,
    '-o',
    'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}',
  ]);
  const alreadyClaimed = live.split('\n').filter((phase) => phase === 'Active').length;
  ({ server } = await startTestServer({
    SIDECAR_LAB_POOL_SIZE: '1',
    SIDECAR_LAB_INSTANCE: instance,
    SIDECAR_LAB_MAX_SANDBOXES: String(alreadyClaimed + 2),
    SIDECAR_LAB_CREATE_RATE_PER_MINUTE: '4',
    SIDECAR_LAB_SANDBOX_TTL_MINUTES: '30',
    SIDECAR_LAB_MAX_TTL_MINUTES: '60',
  }));
});

afterAll(async () => {
  await server?.close();
  await deleteInstanceNamespaces(instance, created);
});

/** A POST that reads the answer even when the server answers before the upload ends (as it must for 413). */
function rawPost(url: string, body: string, cookie: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { cookie, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(error)));
    req.end(body);
  });
}

async function newLearnerWithSandbox(): Promise<{ learner: Learner; id: string; namespace: string; status: string }> {
  const learner = new Learner(server.url);
  const response = await learner.request('POST', '/api/sandboxes', {});
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  created.push(response.json.namespace);
  return { learner, ...response.json };
}

describe('the warm pool', () => {
  it('hands out a ready sandbox at once and refills', async () => {
    await waitFor('a warm sandbox', async () => (await server.pool.claimable()) >= 1, 60_000);
    const warm = (
      await kubectl(['get', 'ns', '-l', `${LABELS.pool}=warm`, '-o', 'jsonpath={.items[*].metadata.name}'])
    ).split(' ');
    const { namespace, status } = await newLearnerWithSandbox();
    // "At once": the learner got one of the sandboxes that were already warm, ready in the first answer.
    expect(warm).toContain(namespace);
    expect(status).toBe('ready');
    const labels = JSON.parse(await kubectl(['get', 'ns', namespace, '-o', 'jsonpath={.metadata.labels}']));
    expect(labels[LABELS.pool]).toBe('claimed');
    expect(labels[LABELS.owner]).toMatch(/^[0-9a-f]{40}$/);
    await waitFor('the pool to refill', async () => (await server.pool.ready()) >= 1, 60_000);
  });
});

describe('limits', () => {
  it('extends within the maximum lifetime and refuses beyond it', async () => {
    const { learner, id } = await newLearnerWithSandbox();
    const before = (await learner.request('GET', `/api/sandboxes/${id}`)).json.expiresAt;
    const extended = await learner.request('POST', `/api/sandboxes/${id}/extend`, { minutes: 20 });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.json.expiresAt) - Date.parse(before)).toBeGreaterThanOrEqual(19 * 60_000);
    const invalid = await learner.request('POST', `/api/sandboxes/${id}/extend`, { minutes: 500 });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.message).toContain('minutes');
    const capped = await learner.request('POST', `/api/sandboxes/${id}/extend`, { minutes: 240 });
    expect(capped.status).toBe(200);
    const claimedAt = await kubectl([
      'get',
      'ns',
      `sbx-${id}`,
      '-o',
      `jsonpath={.metadata.annotations.sidecar-lab\\.dev/claimed-at}`,
    ]);
    expect(Date.parse(capped.json.expiresAt) - Date.parse(claimedAt)).toBeLessThanOrEqual(60 * 60_000);
    const refused = await learner.request('POST', `/api/sandboxes/${id}/extend`, { minutes: 10 });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('longest allowed');
  });

  it('answers 503 with a clear message once every sandbox is taken, warm ones included', async () => {
    // Two are claimed already (the cap); the pool still holds one, which must not take a third learner past it.
    await waitFor('a warm sandbox', async () => (await server.pool.claimable()) >= 1, 60_000);
    const third = new Learner(server.url);
    const refused = await third.request('POST', '/api/sandboxes', {});
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('capacity');
    expect(refused.json.error.message).toContain('all sandboxes are in use');
    expect(await server.pool.ready()).toBeGreaterThanOrEqual(1);
  });

  it('rate-limits sandbox requests per session', async () => {
    const learner = new Learner(server.url);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await learner.request('POST', '/api/sandboxes', {}, '{bad')).status);
    expect(statuses.slice(0, 4)).toEqual([400, 400, 400, 400]);
    expect(statuses.slice(4)).toEqual([429, 429]);
  });
});

describe('bad input changes nothing and gets a clear error', () => {
  it('malformed JSON, unknown fields, unknown ids, oversized bodies, and other learners’ sandboxes', async () => {
    const learner = new Learner(server.url);
    const malformed = await learner.request('POST', '/api/progress/lessons/intro', undefined, '{');
    expect(malformed.status).toBe(204); // this route takes no body; the lesson id is what counts

    const unknownField = await learner.request('POST', '/api/sandboxes', { exrcise: 'x' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.json.error.message).toContain('exrcise');

    const unknownExercise = await learner.request('POST', '/api/sandboxes', { exercise: 'no-such-thing' });
    expect(unknownExercise.status).toBe(400);

    expect((await learner.request('GET', '/api/sandboxes/0123456789abcdef')).status).toBe(404);
    expect((await learner.request('GET', '/api/sandboxes/not-an-id')).status).toBe(404);
    expect((await learner.request('DELETE', '/api/sandboxes/0123456789abcdef')).status).toBe(404);

    const huge = await rawPost(
      `${server.url}/api/sandboxes`,
      JSON.stringify({ x: 'y'.repeat(200_000) }),
      learner.cookie,
    );
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body).error.code).toBe('payload_too_large');

    const other = created[0]!.replace('sbx-', '');
    const probe = await learner.request('GET', `/api/sandboxes/${other}`);
    expect(probe.status).toBe(404);
    expect((await learner.request('DELETE', `/api/sandboxes/${other}`)).status).toBe(404);
    const stillThere = await kubectl(['get', 'ns', created[0]!, '-o', 'jsonpath={.status.phase}']);
    expect(stillThere).toBe('Active');
  });

  it('rejects a tampered session cookie by issuing a fresh session', async () => {
    const { learner, id } = { learner: new Learner(server.url), id: created[0]!.replace('sbx-', '') };
    await learner.request('GET', '/healthz');
    learner.cookie = `${learner.cookie.slice(0, -2)}xx`;
    const response = await learner.request('GET', `/api/sandboxes/${id}`);
    expect(response.status).toBe(404);
  });
});

describe('the reaper', () => {
  it('deletes expired sandboxes and nothing else', async () => {
    // The server is at its cap after the capacity test, so the sandbox to expire is one claimed earlier.
    const expired = created[1];
    if (!expired) throw new Error('the earlier tests claimed no second sandbox');
    const past = new Date(Date.now() - 60_000).toISOString();
    await kubectl(['annotate', 'ns', expired, `${ANNOTATIONS.expiresAt}=${past}`, '--overwrite']);
    // A look-alike namespace we did not create: same prefix and annotation, but not our label.
    const foreign = `sbx-${'f'.repeat(16)}`;
    await kubectlRaw(['create', 'ns', foreign]);
    await kubectl(['annotate', 'ns', foreign, `${ANNOTATIONS.expiresAt}=${past}`, '--overwrite']);
    try {
      const reaped = await server.reaper.sweep();
      expect(reaped).toEqual([expired.replace('sbx-', '')]);
      const phase = await kubectlRaw(['get', 'ns', expired, '-o', 'jsonpath={.status.phase}']);
      expect(phase.code !== 0 || phase.stdout === 'Terminating').toBe(true);
      expect(await kubectl(['get', 'ns', foreign, '-o', 'jsonpath={.status.phase}'])).toBe('Active');
      for (const other of created.filter((n) => n !== expired)) {
        const state = await kubectlRaw(['get', 'ns', other, '-o', 'jsonpath={.status.phase}']);
        expect(state.stdout, other).toBe('Active');
      }
    } finally {
      await kubectlRaw(['delete', 'ns', foreign, '--wait=false']);
    }
  });
});
