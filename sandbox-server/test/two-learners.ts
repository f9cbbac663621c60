// Two learners, each with a claimed sandbox, on a fresh test server: the set-up of tests that pit one against the other.
import { kubectlRaw } from '../../tests/support/kubectl.ts';
import type { RunningServer } from '../src/server.ts';
import { Learner, startTestServer } from './harness.ts';

export interface TwoLearners {
  server: RunningServer;
  a: Learner;
  b: Learner;
  sandboxA: { id: string; namespace: string };
  sandboxB: { id: string; namespace: string };
  /** Deletes both namespaces (without waiting) and closes the server. */
  stop: () => Promise<void>;
}

export async function twoLearners(): Promise<TwoLearners> {
  const { server } = await startTestServer();
  const a = new Learner(server.url);
  const b = new Learner(server.url);
  const answers = await Promise.all([a.request('POST', '/api/sandboxes', {}), b.request('POST', '/api/sandboxes', {})]);
  const [ra, rb] = answers;
  if (ra?.status !== 201 || rb?.status !== 201) {
    await server.close();
    throw new Error(`sandboxes answered ${ra?.status} and ${rb?.status}, not 201`);
  }
  const sandboxA = ra.json;
  const sandboxB = rb.json;
  const stop = async () => {
    await Promise.all(
      [sandboxA, sandboxB].map((s) => kubectlRaw(['delete', 'namespace', s.namespace, '--wait=false'])),
    );
    await server.close();
  };
  return { server, a, b, sandboxA, sandboxB, stop };
}
