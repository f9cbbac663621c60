// A room that applies at once (T2-9): thirty sandboxes create the first exercise's Pod (the seed's nginx-with-sidecar
// under the exercise's own name) within one second; no image pull may fail (the kubelet's pull limit must not bite),
// and every learner's first Check of first-sidecar passes.
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubectl, kubectlRaw } from '../../tests/support/kubectl.ts';
import { toolboxesThatFit } from '../bench/concurrency.ts';
import { pullEvents, watchSeedPods } from '../bench/lib/seed-burst.ts';
import { createKube } from '../src/cluster/kube.ts';
import { loadKubeConfig } from '../src/cluster/kubeconfig.ts';
import type { RunningServer } from '../src/server.ts';
import { Learner, startTestServer } from './harness.ts';

/** The room: thirty learners, unless the node's CPU (requests of a toolbox and the seed's two containers) fits fewer. */
const ROOM = 30;
/** Below this many the burst says nothing about the kubelet's pull limit (its default burst is 10). */
const AT_LEAST = 15;

/** first-sidecar's reference solution: the seed's two containers (nginx:1.26, an untagged busybox) under its name. */
const SOLUTION = parse(readFileSync('exercises/first-sidecar/solution/pod.yaml', 'utf8')) as V1Pod;
const POD = SOLUTION.metadata?.name ?? '';

const kube = createKube(loadKubeConfig());
let server: RunningServer;
const seats: Array<{ learner: Learner; id: string; namespace: string }> = [];

beforeAll(async () => {
  ({ server } = await startTestServer());
  const size = Math.min(ROOM, Math.floor((await toolboxesThatFit({ kube })) / 3));
  expect(size, 'learners that fit on the node by CPU requests').toBeGreaterThanOrEqual(AT_LEAST);
  // Ten at a time, like a room arriving; each learner has a session of their own.
  for (let i = 0; i < size; i += 10) {
    const made = await Promise.all(
      Array.from({ length: Math.min(10, size - i) }, async () => {
        const learner = new Learner(server.url);
        const created = await learner.request('POST', '/api/sandboxes', {});
        expect(created.status, JSON.stringify(created.json)).toBe(201);
        return { learner, id: created.json.id as string, namespace: created.json.namespace as string };
      }),
    );
    seats.push(...made);
  }
}, 600_000);

afterAll(async () => {
  if (seats.length) await kubectlRaw(['delete', 'namespace', ...seats.map((s) => s.namespace), '--wait=false']);
  await server?.close();
});

describe("a room applying the first exercise's Pod at once", () => {
  it('starts every Pod without a failed pull, and every first Check of first-sidecar passes', async () => {
    const body = SOLUTION;
    const namespaces = seats.map((s) => s.namespace);
    const sinceWall = Date.now();
    const t0 = performance.now();
    await Promise.all(namespaces.map((namespace) => kube.core.createNamespacedPod({ namespace, body })));
    // Logged, not asserted (no wall-clock bounds in tests): on a quiet node the creates take a few hundred ms.
    const createdWithin = performance.now() - t0;

    const watch = await watchSeedPods(kube, namespaces, t0, 300_000, 250, POD);
    expect(watch.pending, 'Pods not Ready within 5 minutes').toEqual([]);
    // As a learner would before pressing Check.
    for (const ns of namespaces) {
      await kubectl(['-n', ns, 'wait', '--for=condition=Ready', `pod/${POD}`, '--timeout=60s']);
    }
    const pulls = await pullEvents(kube, namespaces, sinceWall, POD);
    console.log(
      `burst: ${namespaces.length} Pods created in ${createdWithin.toFixed(0)} ms, all Ready after ` +
        `${(Math.max(...watch.readyMs.values()) / 1000).toFixed(1)} s; longest busybox pull ` +
        `${Math.max(...pulls.waitedMs).toFixed(0)} ms including waiting; ${pulls.failed} failed pulls, ` +
        `${watch.pullWaiting.size} Pods seen in ErrImagePull/ImagePullBackOff`,
    );
    expect({ failed: pulls.failed, messages: pulls.messages }, 'failed pulls reported by the kubelet').toEqual({
      failed: 0,
      messages: [],
    });
    expect([...watch.pullWaiting], 'Pods seen waiting in ErrImagePull/ImagePullBackOff').toEqual([]);

    // Five Checks at a time: each one reads logs and execs into the Pod.
    const verdicts: Array<{ namespace: string; status: string; failing: string[] }> = [];
    for (let i = 0; i < seats.length; i += 5) {
      const batch = await Promise.all(
        seats.slice(i, i + 5).map(async ({ learner, id, namespace }) => {
          const report = await learner.request('POST', `/api/sandboxes/${id}/checks/first-sidecar`, {});
          expect(report.status, JSON.stringify(report.json)).toBe(200);
          const checks = report.json.checks as Array<{ id: string; status: string; message: string }>;
          const failing = checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.status}: ${c.message}`);
          return { namespace, status: report.json.status as string, failing };
        }),
      );
      verdicts.push(...batch);
    }
    expect(verdicts.filter((v) => v.status !== 'pass')).toEqual([]);
  }, 900_000);
});
