// Two server replicas on one PostgreSQL database and one cluster, as a Deployment of two Pods behind a Service runs
// them: whichever replica answers, a learner finds the same session, sandbox, progress and terminal screen, and when
// one replica is killed mid-session the other carries on with nothing lost.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freshDatabase } from '../../tests/support/store-backends.ts';
import { type ChildServer, deleteInstanceNamespaces, Learner, startChildServer, testInstance } from './harness.ts';

const instance = testInstance();
const replicas: ChildServer[] = [];
const created = new Set<string>();

afterAll(async () => {
  for (const replica of replicas) await replica.kill('SIGKILL');
  await deleteInstanceNamespaces(instance, created);
});

/** The same browser (its session cookie) sent to another replica, as a load balancer may do at any request. */
const through = (replica: ChildServer, learner: Learner) =>
  Object.assign(new Learner(replica.url), { cookie: learner.cookie });

it('serves one learner from either replica, and carries on when the one they started on is killed', async () => {
  const env = {
    SIDECAR_LAB_DATABASE_URL: await freshDatabase(),
    SIDECAR_LAB_INSTANCE: instance,
    SIDECAR_LAB_POOL_SIZE: '0',
  };
  for (let i = 0; i < 2; i++) replicas.push(await startChildServer(env, mkdtempSync(join(tmpdir(), 'slab-replica-'))));
  const [a, b] = replicas as [ChildServer, ChildServer];

  // Started on A: a sandbox, a lesson read, a line typed in the terminal.
  const onA = new Learner(a.url);
  const made = await onA.request('POST', '/api/sandboxes', {});
  expect(made.status, JSON.stringify(made.json)).toBe(201);
  const { id, namespace } = made.json as { id: string; namespace: string };
  created.add(namespace);
  expect((await onA.request('POST', '/api/progress/lessons/introduction')).status).toBe(204);
  const terminal = await onA.terminal(id);
  terminal.type('echo typed-on-$((40+2))\r');
  await terminal.waitFor('typed-on-42');
  await terminal.close();

  // B knows all of it: the same sandbox (not a second one), the progress, the screen.
  const onB = through(b, onA);
  const found = await onB.request('GET', `/api/sandboxes/${id}`);
  expect(found.status).toBe(200);
  expect(found.json).toMatchObject({ id, namespace, status: 'ready' });
  const again = await onB.request('POST', '/api/sandboxes', {});
  expect(again.status).toBe(200);
  expect(again.json.id).toBe(id);
  expect((await onB.request('GET', '/api/progress')).json.lessonsRead).toContain('introduction');

  // A dies without a word (a node lost, an OOM kill); the learner's next requests reach B.
  await a.kill('SIGKILL');
  const reattached = await onB.terminal(id);
  await reattached.waitFor('typed-on-42');
  reattached.type('echo still-here-$((40+2))\r');
  await reattached.waitFor('still-here-42');
  await reattached.close();
  const checked = await onB.request('POST', `/api/sandboxes/${id}/checks/first-sidecar`, { trigger: 'auto' });
  expect(checked.status, JSON.stringify(checked.json)).toBe(200);
  expect(checked.json.exercise).toBe('first-sidecar');
  expect((await onB.request('POST', '/api/progress/lessons/why-sidecars')).status).toBe(204);
  expect((await onB.request('GET', '/api/progress')).json.lessonsRead).toEqual(
    expect.arrayContaining(['introduction', 'why-sidecars']),
  );
});
