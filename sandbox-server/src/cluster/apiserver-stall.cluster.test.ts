// A real API server made unresponsive (SIGSTOP for a few seconds, then SIGCONT): calls fail in time and are classed
// as "cluster unavailable", a watch whose stream went silent is noticed and replaced, and a change made after the
// server is back reaches the watcher. The kube-apiserver process is the local cluster's, found by its pid file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../tests/support/kubectl.ts';
import { createKube, isUnavailable } from './kube.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { type ObservedChange, Reflector } from './reflector.ts';

const kube = createKube(loadKubeConfig());
const namespace = `stall-test-${Date.now().toString(36)}`;
const state = process.env.SIDECAR_LAB_STATE ?? '/var/lib/sidecar-lab';
/** The kube-apiserver supervisor's pid, which leads the process group the API server runs in. */
const apiserverPid = () => Number(readFileSync(join(state, 'pids', 'kube-apiserver.pid'), 'utf8').trim());

const configMap = (name: string) =>
  kube.rest.json({ method: 'POST', path: `/api/v1/namespaces/${namespace}/configmaps`, body: { metadata: { name } } });

beforeAll(async () => {
  await kube.core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'sidecar-lab.dev/test': 'stall' } } },
  });
});

afterAll(async () => {
  process.kill(-apiserverPid(), 'SIGCONT'); // never leave the cluster frozen, whatever happened
  await waitFor('the API server answering', async () => kube.core.readNamespace({ name: namespace }));
  await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('an API server that stops answering for a while', () => {
  it('calls time out as unavailable; a silent watch is replaced; changes after it returns are seen', async () => {
    const changes: ObservedChange[] = [];
    const reflector = new Reflector(kube.rest, `/api/v1/namespaces/${namespace}/configmaps`, (c) => changes.push(c), {
      stallMs: 3_000,
      retryMs: 500,
    });
    reflector.start();
    try {
      await waitFor('the watch', async () => (reflector.stats.watches >= 1 ? true : undefined));
      const pid = apiserverPid();
      process.kill(-pid, 'SIGSTOP'); // the supervisor's process group: it and kube-apiserver
      try {
        const error = await createKube(loadKubeConfig(), 2_000)
          .core.readNamespace({ name: namespace })
          .catch((e: unknown) => e);
        expect(isUnavailable(error)).toBe(true);
        await waitFor(
          'the stalled stream noticed',
          async () => (reflector.stats.stalls >= 1 ? true : undefined),
          30_000,
        );
      } finally {
        process.kill(-pid, 'SIGCONT');
      }
      await waitFor('the API server answering again', async () => kube.core.readNamespace({ name: namespace }));
      await configMap('after-the-stall');
      await waitFor('the change after the stall', async () =>
        changes.some((c) => c.name === 'after-the-stall') ? true : undefined,
      );
      expect(changes.filter((c) => c.name !== 'kube-root-ca.crt')).toEqual([
        { type: 'ADDED', name: 'after-the-stall' },
      ]);
    } finally {
      reflector.stop();
    }
  });
});
