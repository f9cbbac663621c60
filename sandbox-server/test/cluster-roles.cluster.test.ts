// Servers of two versions on one cluster agree on whose learner and checker roles win: a starting server leaves a
// newer revision alone and brings an older one up to its own, instead of each rewriting the roles at start-up.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { kubectl } from '../../tests/support/kubectl.ts';
import { CHECKER_CLUSTER_ROLE, LEARNER_CLUSTER_ROLE, ROLE_REVISION } from '../src/cluster/blueprint.ts';
import { ANNOTATIONS } from '../src/cluster/labels.ts';
import { startChildServer, testInstance } from './harness.ts';

const ROLES = [LEARNER_CLUSTER_ROLE, CHECKER_CLUSTER_ROLE];

const setRevision = (role: string, revision: number) =>
  kubectl(['annotate', '--overwrite', 'clusterrole', role, `${ANNOTATIONS.rulesRevision}=${revision}`]);
const revisionOf = async (role: string) =>
  (await kubectl(['get', 'clusterrole', role, '-o', 'json']).then(JSON.parse)).metadata.annotations[
    ANNOTATIONS.rulesRevision
  ] as string;

/** Starts a server (it ensures the roles before it listens) and stops it again. */
async function startAndStopServer() {
  const server = await startChildServer(
    { SIDECAR_LAB_POOL_SIZE: '0', SIDECAR_LAB_INSTANCE: testInstance() },
    mkdtempSync(join(tmpdir(), 'slab-roles-')),
  );
  await server.kill('SIGTERM');
}

afterAll(async () => {
  for (const role of ROLES) await setRevision(role, ROLE_REVISION);
});

it("leaves a newer server's roles alone and brings an older server's up to date", async () => {
  for (const role of ROLES) await setRevision(role, ROLE_REVISION + 1);
  await startAndStopServer();
  for (const role of ROLES) expect(await revisionOf(role), role).toBe(String(ROLE_REVISION + 1));

  for (const role of ROLES) await setRevision(role, ROLE_REVISION - 1);
  await startAndStopServer();
  for (const role of ROLES) expect(await revisionOf(role), role).toBe(String(ROLE_REVISION));
});
