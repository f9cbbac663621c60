// Every network call of the cluster client has a bound: against a TCP listener that accepts connections and never
// answers (what a wedged API server or a black-holing load balancer looks like), REST calls, the watch handshake and
// the exec handshake each fail in time with an error the server reads as "the cluster is not answering".
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exec } from './exec-socket.ts';
import { createKube, isUnavailable } from './kube.ts';
import { KubeConfig } from './kubeconfig-file.ts';
import { watch } from './watch.ts';

let listener: Server;
const held: Socket[] = [];
let kc: KubeConfig;

beforeAll(async () => {
  listener = createServer((socket) => {
    held.push(socket); // accept, read nothing back, never answer
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  kc = new KubeConfig({
    clusters: [{ name: 'silent', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'silent', cluster: 'silent', user: 'u' }],
    currentContext: 'silent',
  });
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => listener.close(resolve));
});

describe('a listener that accepts and never answers', () => {
  it('a REST call fails with a timeout, classed as unavailable', async () => {
    const error = await createKube(kc, 1500)
      .core.readNamespace({ name: 'x' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(isUnavailable(error)).toBe(true);
  });

  it('a watch fails to open within its handshake bound', async () => {
    const controller = new AbortController();
    const error = await watch(
      createKube(kc).rest,
      '/api/v1/namespaces/x/pods',
      controller.signal,
      () => undefined,
      () => undefined,
      { openTimeoutMs: 1500 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(isUnavailable(error)).toBe(true);
  });

  it('an exec fails within its handshake bound', async () => {
    const exec = new Exec(kc, { handshakeTimeoutMs: 1500 });
    const error = await exec.exec('x', 'p', 'c', ['true'], null, null, null, false).catch((e: unknown) => e);
    expect(String(error)).toMatch(/handshake has timed out/);
    expect(isUnavailable(error)).toBe(true);
  });
});
