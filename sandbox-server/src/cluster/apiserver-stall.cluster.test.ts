// A real API server made unresponsive (SIGSTOP for a few seconds, then SIGCONT): calls fail in time and are classed
// as "cluster unavailable", a watch whose stream went silent is noticed and replaced, and a change made after the
// server is back reaches the watcher. The kube-apiserver process is the local cluster's, found by its pid file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, isUnavailable } from './kube.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { type ObservedChange, Reflector } from './reflector.ts';

const kube = createKube(loadKubeConfig());
const namespace = `stall-test-${Date.now().toString(36)}`;
const state = process.env.SIDECAR_LAB_STATE ?? '/var/lib/sidecar-lab';
/** The kube-apiserver supervisor's pid, which leads the process group the API server runs in. */
const apiserverPid = () => Number(readFileSync(join(state, 'pids', 'kube-apiserver.pid'), 'utf8').trim());

async function until<T>(what: string, attempt: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(attempt)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const configMap = (name: string) =>
  kube.rest.json({ method: 'POST', path: `/api/v1/namespaces/${namespace}/configmaps`, body: { metadata: { name } } });

beforeAll(async () => {
  await kube.core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'sidecar-lab.dev/test': 'stall' } } },
  });
});

afterAll(async () => {
  process.kill(-apiserverPid(), 'SIGCONT'); // never leave the cluster frozen, whatever happened
  await until('the API server answering', () => kube.core.readNamespace({ name: namespace }));
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
      await until('the watch', () => (reflector.stats.watches >= 1 ? true : undefined));
      const pid = apiserverPid();
      process.kill(-pid, 'SIGSTOP'); // the supervisor's process group: it and kube-apiserver
      try {
        const error = await createKube(loadKubeConfig(), 2_000)
          .core.readNamespace({ name: namespace })
          .catch((e: unknown) => e);
        expect(isUnavailable(error)).toBe(true);
        await until('the stalled stream noticed', () => (reflector.stats.stalls >= 1 ? true : undefined), 30_000);
      } finally {
        process.kill(-pid, 'SIGCONT');
      }
      await until('the API server answering again', () => kube.core.readNamespace({ name: namespace }));
      await configMap('after-the-stall');
      await until('the change after the stall', () =>
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
