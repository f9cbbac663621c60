// Two server replicas on one cluster: a Lease elects the one that refills the warm pool and reaps; when it dies the
// other takes over and refills; a replica that stops cleanly hands the Lease back at once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { kubectl, waitFor } from '../../tests/support/kubectl.ts';
import { LABELS } from '../src/cluster/labels.ts';
import { type ChildServer, deleteInstanceNamespaces, Learner, startChildServer, testInstance } from './harness.ts';

const instance = testInstance();
const LEASE = ['-n', 'sidecar-lab-system', 'get', 'lease', `sidecar-lab-pool-${instance}`];
const replicas: ChildServer[] = [];
const created = new Set<string>();

const holder = async () => (await kubectl([...LEASE, '-o', 'jsonpath={.spec.holderIdentity}']).catch(() => '')).trim();
const holds = (replica: ChildServer, identity: string) => identity.includes(`-${replica.pid}-`);
const leads = async (replica: ChildServer) =>
  /^sidecar_lab_leader 1$/m.test(await (await fetch(`${replica.url}/metrics`)).text());
const warm = async () =>
  (await kubectl(['get', 'ns', '-l', `${LABELS.instance}=${instance},${LABELS.pool}=warm`, '-o', 'name']))
    .split('\n')
    .filter(Boolean);

afterAll(async () => {
  for (const replica of replicas) await replica.kill('SIGKILL').catch(() => undefined);
  await deleteInstanceNamespaces(instance, created);
});

it('elects one replica to keep the pool, moves the Lease when it dies, and releases it on a clean stop', async () => {
  const env = { SIDECAR_LAB_POOL_SIZE: '1', SIDECAR_LAB_INSTANCE: instance, SIDECAR_LAB_LEASE_SECONDS: '4' };
  for (let i = 0; i < 2; i++) replicas.push(await startChildServer(env, mkdtempSync(join(tmpdir(), 'slab-leader-'))));
  const [a, b] = replicas as [ChildServer, ChildServer];

  // Exactly one leads: the Lease names it, and only its gauge says so.
  const first = await waitFor('a Lease holder', async () => {
    const identity = await holder();
    return identity && (holds(a, identity) || holds(b, identity)) ? identity : undefined;
  });
  const [leader, follower] = holds(a, first) ? [a, b] : [b, a];
  await waitFor('the leader to report it', () => leads(leader));
  expect(await leads(follower)).toBe(false);
  await waitFor('a warm sandbox', async () => (await warm()).length >= 1, 180_000);
  // Both replicas want a pool of one; with one refiller it stays one, round after round of the Lease.
  for (let round = 0; round < 3; round++) {
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await warm()).toHaveLength(1);
    expect(holds(leader, await holder())).toBe(true);
  }

  // The leader dies without a word: once its Lease runs out the follower takes it and keeps the pool.
  await leader.kill('SIGKILL');
  await waitFor('the follower to take the Lease', async () => holds(follower, await holder()), 60_000);
  await waitFor('the follower to report it', () => leads(follower));
  const learner = new Learner(follower.url);
  const claimed = await learner.request('POST', '/api/sandboxes', {});
  expect(claimed.status).toBe(201);
  created.add(claimed.json.namespace);
  await waitFor('the new leader to refill the pool', async () => (await warm()).length >= 1, 180_000);

  // A clean stop hands the Lease back instead of leaving it to expire.
  await follower.kill('SIGTERM');
  await waitFor('the Lease released', async () => (await holder()) === '', 30_000);
});
