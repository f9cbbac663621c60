// Our cluster client against the real API server: CRUD, error classes, logs, exec (exit codes, stdin, tty), watch.
import { PassThrough, Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergePatch } from './apis.ts';
import { execCollect } from './exec.ts';
import { createKube, isConflict, isNotFound } from './kube.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { KubeApiError } from './rest.ts';
import { type WatchEvent, watch } from './watch.ts';

const kube = createKube(loadKubeConfig());
const namespace = `client-test-${Date.now().toString(36)}`;
const label = { 'sidecar-lab.dev/client-test': 'true' };

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  await kube.core.createNamespace({ body: { metadata: { name: namespace, labels: label } } });
  await until('the default ServiceAccount', () =>
    kube.core.readNamespacedServiceAccount({ namespace, name: 'default' }),
  );
  await kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'box' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'main',
            image: 'busybox',
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'echo first line; echo second line; exec sleep 3600'],
          },
        ],
      },
    },
  });
  await until('the Pod running', async () => {
    const pod = await kube.core.readNamespacedPod({ namespace, name: 'box' });
    return pod.status?.containerStatuses?.[0]?.ready ? pod : undefined;
  });
});

afterAll(async () => {
  await kube.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
});

describe('REST calls', () => {
  it('reads, lists by label, merge-patches, and tells not found and conflict apart', async () => {
    const ns = await kube.core.readNamespace({ name: namespace });
    expect(ns.metadata?.labels).toMatchObject(label);
    const listed = await kube.core.listNamespace({ labelSelector: `sidecar-lab.dev/client-test=true` });
    expect(listed.items.map((n) => n.metadata?.name)).toContain(namespace);

    const patched = await kube.core.patchNamespace(
      { name: namespace, body: { metadata: { annotations: { 'sidecar-lab.dev/note': 'patched' } } } },
      mergePatch,
    );
    expect(patched.metadata?.annotations?.['sidecar-lab.dev/note']).toBe('patched');
    expect(patched.metadata?.labels).toMatchObject(label); // a merge patch keeps what it does not name

    const missing = await kube.core.readNamespace({ name: `${namespace}-nope` }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KubeApiError);
    expect(isNotFound(missing)).toBe(true);
    const stale = await kube.core
      .patchNamespace({ name: namespace, body: { metadata: { resourceVersion: '1', labels: { x: 'y' } } } }, mergePatch)
      .catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
    const again = await kube.core.createNamespace({ body: { metadata: { name: namespace } } }).catch((e: unknown) => e);
    expect(isConflict(again)).toBe(true);
  });

  it('reads a Pod log as text, bounded by tailLines', async () => {
    const all = await kube.core.readNamespacedPodLog({ namespace, name: 'box', container: 'main' });
    expect(all).toBe('first line\nsecond line\n');
    const tail = await kube.core.readNamespacedPodLog({ namespace, name: 'box', container: 'main', tailLines: 1 });
    expect(tail).toBe('second line\n');
    const error = await kube.core
      .readNamespacedPodLog({ namespace, name: 'box', container: 'main', previous: true })
      .catch((e: unknown) => e);
    expect((error as KubeApiError).code).toBe(400); // no previous instance
  });
});

describe('exec', () => {
  it('collects stdout and stderr and reports the exit code', async () => {
    const result = await execCollect(kube, namespace, 'box', 'main', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    expect((await execCollect(kube, namespace, 'box', 'main', ['true'])).exitCode).toBe(0);
  });

  it('forwards stdin and closes it, so the command sees the end of its input', async () => {
    const result = await execCollect(kube, namespace, 'box', 'main', ['wc', '-c'], 10_000, 'twelve bytes');
    expect(result.stdout.trim()).toBe('12');
    expect(result.exitCode).toBe(0);
  });

  it('runs with a tty whose size the stdout stream sets and its resize events change', async () => {
    const chunks: Buffer[] = [];
    const output = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      }),
      { columns: 91, rows: 17 },
    );
    const stdin = new PassThrough();
    let status: V1Status | undefined;
    const ws = await kube.exec.exec(namespace, 'box', 'main', ['sh'], output, null, stdin, true, (s) => {
      status = s;
    });
    const text = () => Buffer.concat(chunks).toString('utf8');
    stdin.write('stty size\n');
    await until('the first size', async () => (/17 91/.test(text()) ? true : undefined), 10_000);
    output.columns = 100;
    output.rows = 30;
    output.emit('resize');
    stdin.write('stty size; exit 5\n');
    await new Promise((resolve) => ws.once('close', resolve));
    expect(text()).toMatch(/30 100/);
    expect(status?.details?.causes?.find((c) => c.reason === 'ExitCode')?.message).toBe('5');
  });

  it('is refused with the API server status when the container does not exist', async () => {
    await expect(
      kube.exec.exec(namespace, 'box', 'nope', ['true'], new PassThrough(), null, null, false),
    ).rejects.toThrow(/Unexpected server response: 400/);
  });
});

describe('watch', () => {
  it('streams events until aborted', async () => {
    const controller = new AbortController();
    const events: WatchEvent[] = [];
    const done = new Promise<void>((resolve) => {
      void watch(
        kube.rest,
        `/api/v1/namespaces/${namespace}/pods`,
        controller.signal,
        (e) => events.push(e),
        () => resolve(),
      );
    });
    await until('the existing Pod as ADDED', async () => (events.length ? true : undefined), 10_000);
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'box' } } });
    controller.abort();
    await done;
  });
});
