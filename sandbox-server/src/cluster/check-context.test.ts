// A cluster that does not answer gives "cluster unavailable" within the call timeout, never a failed check.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterUnavailableError } from '../../../exercises/errors.ts';
import { getExercise } from '../../../exercises/registry.ts';
import { runExercise } from '../../../exercises/runner.ts';
import { createCheckContext, exitFromStatus } from './check-context.ts';
import { KubeConfig } from './kubeconfig-file.ts';

// Accepts connections and then says nothing: the worst kind of API server, a hung one.
let server: Server;
const sockets: Socket[] = [];
let kc: KubeConfig;

beforeAll(async () => {
  server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  kc = new KubeConfig({
    clusters: [{ name: 'hung', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'hung', cluster: 'hung', user: 'u' }],
    currentContext: 'hung',
  });
});
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  server.close();
});

describe('createCheckContext against a hung API server', () => {
  it('gives up on each call after the request timeout', async () => {
    const ctx = createCheckContext(kc, 'ns', { requestTimeoutMs: 300 });
    await expect(ctx.getPod('x')).rejects.toThrow(ClusterUnavailableError);
    await expect(ctx.logs('x', 'c', { tailLines: 1, limitBytes: 100 })).rejects.toThrow(
      /logs of x\/c in ns: no answer in time/,
    );
    await expect(ctx.exec('x', 'c', ['true'], { timeoutMs: 1000 })).rejects.toThrow(/exec in x\/c: no answer in time/);
  });

  it('makes every check of an exercise an error, not a failure', async () => {
    const exercise = getExercise('first-sidecar');
    if (!exercise) throw new Error('missing exercise');
    const report = await runExercise(exercise, createCheckContext(kc, 'ns', { requestTimeoutMs: 300 }));
    expect(report.status).toBe('error');
    expect(report.checks.map((c) => c.status)).toEqual(exercise.checks.map(() => 'error'));
    expect(report.checks[0]?.message).toBe('cluster unavailable: get pod first-sidecar in ns: no answer in time');
  });
});

describe('exitFromStatus', () => {
  const failure = (message: string) => ({ status: 'Failure', message });

  it('reads a command that ran to its exit code', () => {
    expect(exitFromStatus({ status: 'Success' })).toEqual({ exitCode: 0 });
    const nonZero = {
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    };
    expect(exitFromStatus(nonZero)).toEqual({ exitCode: 3 });
  });

  // Messages as the kubelet relays them from containerd: the first was seen when a check's exec met main-app while the
  // learner's reloader was stopping nginx.
  it.each([
    'Internal error occurred: error executing command in container: failed to exec in container: failed to create exec "6649963bd980": ttrpc: closed',
    'Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "a1": OCI runtime exec failed: exec failed: cannot exec in a stopped container: unknown',
    'Internal error occurred: error executing command in container: failed to exec in container: failed to load task: no running task found: task 3f2a9c not found: not found',
    'container not found ("main-app")',
  ])('says the container is not running, not that the cluster is unavailable: %s', (message) => {
    const result = exitFromStatus(failure(message));
    expect(result.exitCode).toBeNull();
    expect(result.note).toMatch(/^the container is not running/);
  });

  it('calls any other failure an unavailable cluster', () => {
    expect(() => exitFromStatus(failure('Internal error occurred: etcdserver: request timed out'))).toThrow(
      ClusterUnavailableError,
    );
  });
});
