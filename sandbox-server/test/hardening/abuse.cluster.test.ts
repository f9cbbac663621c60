// Hardening — abuse: floods, fork bombs, memory hogs, endless output and hostile frames, each with its exact outcome.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { podPids } from '../../../tests/support/cgroups.ts';
import { kubectl, kubectlRaw } from '../../../tests/support/kubectl.ts';
import { type ChildServer, Learner, ORIGIN, startChildServer } from '../harness.ts';

let server: ChildServer;
let learner: Learner;
let sandbox: { id: string; namespace: string };

const inToolbox = (script: string, timeoutMs = 60_000) =>
  kubectlRaw(
    ['-n', sandbox.namespace, 'exec', 'toolbox', '-c', 'shell', '--', 'bash', '-c', script],
    undefined,
    timeoutMs,
  );

/** The server still answers /healthz under attack (how fast is the bench's business, not a test's). */
async function expectHealthy(): Promise<void> {
  const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(30_000) });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  server = await startChildServer({}, mkdtempSync(join(tmpdir(), 'slab-abuse-')));
  learner = new Learner(server.url);
  const created = await learner.request('POST', '/api/sandboxes', {});
  expect(created.status).toBe(201);
  sandbox = created.json;
});

afterAll(async () => {
  if (sandbox) await kubectlRaw(['delete', 'namespace', sandbox.namespace, '--wait=false']);
  await server?.kill();
});

describe('resource abuse inside a sandbox', () => {
  it('a Pod flood stops at the quota with the API server’s message', async () => {
    const result = await inToolbox(
      'for i in $(seq 1 30); do kubectl run flood-$i --image=busybox --restart=Never -- sleep 600 2>&1 | tail -1; done',
      120_000,
    );
    expect(result.stdout).toMatch(/exceeded quota: sandbox-budget/);
    const pods = (await kubectl(['-n', sandbox.namespace, 'get', 'pods', '-o', 'name'])).trim().split('\n');
    expect(pods.length).toBeLessThanOrEqual(20);
  });

  it('a toolbox lost while the quota is full comes back once the deleted Pods make room', async () => {
    const ns = ['-n', sandbox.namespace];
    const allReady = () =>
      kubectl([...ns, 'wait', '--for=condition=Ready', 'pod', '-l', 'run', '--timeout=180s'], undefined, 200_000);
    await allReady();
    await kubectl([...ns, 'delete', 'pod', 'toolbox', '--force', '--grace-period=0']);
    // The learner's Pods take the toolbox's place in the quota...
    let refused: string | undefined;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const run = await kubectlRaw([
        ...ns,
        'run',
        `refill-${i}`,
        '--image=busybox',
        '--restart=Never',
        '--',
        'sleep',
        '600',
      ]);
      if (run.code !== 0) refused = run.stderr;
    }
    expect(refused).toMatch(/exceeded quota: sandbox-budget/);
    // ...and, once deleted, keep it for their grace period (running `sleep` as PID 1 ignores SIGTERM).
    await allReady();
    await kubectl([...ns, 'delete', 'pods', '-l', 'run', '--wait=false']);
    const terminal = await learner.terminal(sandbox.id);
    terminal.type('echo back-$((40+2))\r');
    await terminal.waitFor('back-42', 30_000);
    await terminal.close();
  });

  it('a memory hog in the toolbox is OOM-killed at the limit; the toolbox and server carry on', async () => {
    const hog = await inToolbox('awk \'BEGIN { s = "x"; while (1) s = s s }\'; echo exit=$?');
    expect(hog.stdout).toMatch(/exit=137/);
    expect((await inToolbox('echo alive')).stdout.trim()).toBe('alive');
    await expectHealthy();
  });

  it('a fork bomb in the toolbox stops at the Pod’s process limit and the server stays responsive', async () => {
    const uid = await kubectl(['-n', sandbox.namespace, 'get', 'pod', 'toolbox', '-o', 'jsonpath={.metadata.uid}']);
    await inToolbox('(bomb() { bomb | bomb & }; bomb) 2>/dev/null; sleep 4', 60_000);
    // Counted from the node, not by the bombed shell (which may not be able to fork to count): the Pod's pids cgroup
    // has the kubelet's limit, the bomb ran into it (its peak is at the limit: the limit, not something else, stopped
    // it), and it never held more.
    const pids = podPids(uid);
    expect(pids, `the toolbox ${uid} has a pids cgroup on this node`).toBeDefined();
    expect(pids?.max).toBe(1024);
    expect(pids?.current).toBeLessThanOrEqual(1024);
    if (pids?.peak === undefined)
      throw new Error('this kernel keeps no pids.peak: the bomb reaching the cap is unproven');
    expect(pids.peak).toBeGreaterThanOrEqual(1000);
    expect(pids.peak).toBeLessThanOrEqual(1024);
    for (let i = 0; i < 3; i++) await expectHealthy();
    const pidsMax = await kubectl(['get', '--raw', '/api/v1/nodes/sidecar-lab/proxy/configz']);
    expect(JSON.parse(pidsMax).kubeletconfig.podPidsLimit).toBe(1024);
    // Clean up as the operator would: the toolbox is replaced, and the terminal comes back on a fresh one.
    await kubectl(['-n', sandbox.namespace, 'delete', 'pod', 'toolbox', '--force', '--grace-period=0']);
    const terminal = await learner.terminal(sandbox.id);
    terminal.type('echo recovered-$((40+2))\r');
    await terminal.waitFor('recovered-42', 20_000);
    await terminal.close();
  });
});

describe('the terminal under abuse', () => {
  it('endless output to a client that stops reading does not grow server memory without bound', async () => {
    const terminal = await learner.terminal(sandbox.id);
    const before = server.rssKiB();
    terminal.type('yes sidecar-lab-flood-line\r');
    // Stop reading: TCP fills up, the bridge pauses the exec stream instead of buffering.
    const socket = (terminal.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    let peak = before;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      peak = Math.max(peak, server.rssKiB());
    }
    socket.resume();
    terminal.type('\u0003');
    terminal.type('echo flood-stopped\r');
    await terminal.waitFor('flood-stopped', 30_000);
    await terminal.close();
    expect(peak - before, `RSS grew from ${before} KiB to ${peak} KiB`).toBeLessThan(64 * 1024);
  });

  it('refuses an oversized frame (1009) and ignores malformed control frames without crashing', async () => {
    const terminal = await learner.terminal(sandbox.id);
    terminal.ws.send('not json at all');
    terminal.ws.send(JSON.stringify({ type: 'resize', cols: 1e9, rows: -4 }));
    terminal.ws.send(JSON.stringify({ type: 'resize', namespace: 'kube-system', pod: 'etcd', cols: 80, rows: 24 }));
    terminal.type('echo still-here\r');
    await terminal.waitFor('still-here');
    const closed = new Promise<number>((resolve) => terminal.ws.once('close', (code) => resolve(code)));
    terminal.ws.send(Buffer.alloc(1024 * 1024, 1), { binary: true });
    expect(await closed).toBe(1009);
    await expectHealthy();
  });

  it('refuses upgrades with no Origin or a null Origin', async () => {
    for (const origin of ['null', '']) {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/sandboxes/${sandbox.id}/terminal`, {
        headers: { cookie: learner.cookie, ...(origin ? { origin } : {}) },
      });
      const status = await new Promise<number>((resolve) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => resolve(101));
        ws.once('error', () => resolve(-1));
      });
      expect(status, `Origin "${origin}"`).toBe(403);
    }
    expect(ORIGIN).toBe('http://lab.test');
  });
});

describe('session cookies', () => {
  it('are HttpOnly, SameSite=Lax, scoped to the site, and signed', async () => {
    const response = await fetch(`${server.url}/healthz`);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^slab_session=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
  });

  it('a cross-site form POST is refused before it does anything', async () => {
    const response = await fetch(`${server.url}/api/sandboxes`, {
      method: 'POST',
      headers: {
        cookie: learner.cookie,
        origin: 'http://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'exercise=first-sidecar',
    });
    expect(response.status).toBe(403);
  });
});
