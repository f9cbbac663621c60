// Hardening — faults: the server killed, the API server restarted, the toolbox deleted, a stuck namespace, churn.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podCgroup } from '../../../tests/support/cgroups.ts';
import { kubectl, kubectlRaw, waitFor } from '../../../tests/support/kubectl.ts';
import { ANNOTATIONS, LABELS } from '../../src/cluster/labels.ts';
import { type ChildServer, Learner, startChildServer, tmuxClients } from '../harness.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'slab-faults-'));
// A small heap turns a leak into a crash: if memory were kept per sandbox, 100 cycles would not fit.
const env = {
  SIDECAR_LAB_MAX_SANDBOXES: '500',
  SIDECAR_LAB_CREATE_RATE_PER_MINUTE: '1000',
  NODE_OPTIONS: '--max-old-space-size=96',
};
let server: ChildServer;
let port: number;
let learner: Learner;
let sandbox: { id: string; namespace: string };

beforeAll(async () => {
  server = await startChildServer(env, dataDir);
  port = Number(new URL(server.url).port);
  learner = new Learner(server.url);
  const created = await learner.request('POST', '/api/sandboxes', {});
  expect(created.status).toBe(201);
  sandbox = created.json;
});

afterAll(async () => {
  if (sandbox) await kubectlRaw(['delete', 'namespace', sandbox.namespace, '--wait=false']);
  await server?.kill();
});

async function restartServer(signal: NodeJS.Signals): Promise<void> {
  await server.kill(signal);
  server = await startChildServer(env, dataDir, port);
}

describe('the server is killed (SIGKILL) mid-session and restarted', () => {
  it('keeps the sandbox, files, tmux screen, progress and check history; the terminal reconnects', async () => {
    const solution = readFileSync('exercises/first-sidecar/solution/pod.yaml', 'utf8');
    expect(
      (
        await learner.request('POST', `/api/sandboxes/${sandbox.id}/files`, {
          path: 'work/pod.yaml',
          content: solution,
        })
      ).status,
    ).toBe(204);
    const terminal = await learner.terminal(sandbox.id);
    terminal.type('kubectl apply -f work/pod.yaml && echo applied-$((3*3))\r');
    await terminal.waitFor('applied-9', 20_000);
    await kubectl(
      ['-n', sandbox.namespace, 'wait', '--for=condition=Ready', 'pod/first-sidecar', '--timeout=90s'],
      undefined,
      100_000,
    );
    const check = await waitFor(
      'the check to pass',
      async () => {
        const result = await learner.request('POST', `/api/sandboxes/${sandbox.id}/checks/first-sidecar`, {});
        return result.json.passed === true && result.json;
      },
      60_000,
    );
    expect(check.status).toBe('pass');
    expect((await learner.request('POST', '/api/progress/lessons/introduction')).status).toBe(204);

    await restartServer('SIGKILL');

    const again = await learner.terminal(sandbox.id);
    await again.waitFor('applied-9'); // tmux redrew the screen that was there before the kill
    // The killed server never closed its connection, so its tmux client lived on; the reconnect detached it.
    expect(await tmuxClients(sandbox.namespace)).toBe(1);
    again.type('echo lines=$(grep -c sidecar-logger work/pod.yaml)\r');
    await again.waitFor(/lines=[1-9]/);
    await again.close();
    await terminal.close().catch(() => undefined);
    await waitFor(
      'the closed terminal’s tmux client to be gone',
      async () => (await tmuxClients(sandbox.namespace)) === 0,
    );
    const progress = await learner.request('GET', '/api/progress');
    expect(progress.json).toEqual({ lessonsRead: ['introduction'], exercisesPassed: ['first-sidecar'] });
  });
});

describe('the API server is restarted', () => {
  it('the server answers "cluster unavailable" meanwhile and recovers by itself afterwards', async () => {
    // Its supervisor restarts it a second after it dies; held stopped meanwhile, the outage lasts as long as we say.
    const state = process.env.SIDECAR_LAB_STATE ?? '/var/lib/sidecar-lab';
    const supervisor = Number(readFileSync(join(state, 'pids', 'kube-apiserver.pid'), 'utf8').trim());
    const apiserverPid = execFileSync('pgrep', ['-x', 'kube-apiserver']).toString().trim().split('\n')[0]!;
    process.kill(supervisor, 'SIGSTOP');
    let during: Awaited<ReturnType<Learner['request']>>;
    try {
      process.kill(Number(apiserverPid), 'SIGKILL');
      await waitFor(
        'the API server to be down',
        async () => (await kubectlRaw(['get', '--raw', '/readyz'])).code !== 0,
      );
      during = await learner.request('GET', `/api/sandboxes/${sandbox.id}`);
    } finally {
      process.kill(supervisor, 'SIGCONT');
    }
    expect(during.status).toBe(503);
    expect(during.json.error.code).toBe('cluster_unavailable');
    await waitFor(
      'the API server to be back',
      async () => (await kubectlRaw(['get', '--raw', '/readyz'])).stdout === 'ok',
      90_000,
    );
    const after = await waitFor(
      'the server to answer again',
      async () => {
        const response = await learner.request('GET', `/api/sandboxes/${sandbox.id}`);
        return response.status === 200 && response.json;
      },
      30_000,
    );
    expect(after.status).toBe('ready');
    const terminal = await learner.terminal(sandbox.id);
    terminal.type('echo after-apiserver-$((5*5))\r');
    await terminal.waitFor('after-apiserver-25', 20_000);
    await terminal.close();
  });
});

describe('the toolbox Pod is deleted out of band', () => {
  it('is recreated and the terminal reattaches', async () => {
    await kubectl(['-n', sandbox.namespace, 'delete', 'pod', 'toolbox', '--wait=true', '--grace-period=1']);
    const terminal = await learner.terminal(sandbox.id);
    terminal.type('echo fresh-toolbox-$((6*7))\r');
    await terminal.waitFor('fresh-toolbox-42', 20_000);
    await terminal.close();
    const phase = await kubectl(['-n', sandbox.namespace, 'get', 'pod', 'toolbox', '-o', 'jsonpath={.status.phase}']);
    expect(phase).toBe('Running');
  });
});

describe('a namespace stuck in Terminating', () => {
  it('does not block the reaper from deleting other expired sandboxes', async () => {
    const stuckLearner = new Learner(server.url);
    const stuck = (await stuckLearner.request('POST', '/api/sandboxes', {})).json;
    const expired = (await new Learner(server.url).request('POST', '/api/sandboxes', {})).json;
    const past = new Date(Date.now() - 60_000).toISOString();
    try {
      // A finalizer nobody removes keeps the namespace Terminating, as a broken controller would.
      await kubectl(['-n', stuck.namespace, 'create', 'configmap', 'held']);
      await kubectl([
        '-n',
        stuck.namespace,
        'patch',
        'configmap',
        'held',
        '-p',
        '{"metadata":{"finalizers":["sidecar-lab.dev/test-hold"]}}',
      ]);
      await kubectl(['delete', 'namespace', stuck.namespace, '--wait=false']);
      await kubectl(['annotate', 'ns', stuck.namespace, `${ANNOTATIONS.expiresAt}=${past}`, '--overwrite']);
      await kubectl(['annotate', 'ns', expired.namespace, `${ANNOTATIONS.expiresAt}=${past}`, '--overwrite']);
      // A restart runs the reaper at start-up, so no test hook is needed.
      await restartServer('SIGTERM');
      await waitFor(
        'the expired sandbox to be deleted',
        async () => {
          const phase = await kubectlRaw(['get', 'ns', expired.namespace, '-o', 'jsonpath={.status.phase}']);
          return phase.code !== 0 || phase.stdout === 'Terminating';
        },
        20_000,
      );
      expect(await kubectl(['get', 'ns', stuck.namespace, '-o', 'jsonpath={.status.phase}'])).toBe('Terminating');
      const fresh = await new Learner(server.url).request('POST', '/api/sandboxes', {});
      expect(fresh.status).toBe(201);
      await kubectlRaw(['delete', 'namespace', fresh.json.namespace, '--wait=false']);
    } finally {
      await kubectlRaw([
        '-n',
        stuck.namespace,
        'patch',
        'configmap',
        'held',
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/metadata/finalizers"}]',
      ]);
      await kubectlRaw(['delete', 'namespace', expired.namespace, '--wait=false']);
    }
  });
});

describe('100 create/delete cycles', () => {
  /** Pod cgroups still on the node for these Pod UIDs: a process of theirs would live in one. */
  const liveCgroups = (uids: string[]) => uids.filter((uid) => podCgroup(uid) !== undefined);

  it('leak no namespace, process or memory (counted before and after)', async () => {
    const before = { fds: readdirSync(`/proc/${server.pid}/fd`).length, rss: server.rssKiB() };
    const namespaces: string[] = [];
    const uids: string[] = [];
    // V8 grows its heap to a working size before it settles, so the memory comparison starts after a warm-up half.
    let settled = before;
    for (let i = 0; i < 100; i++) {
      if (i === 50) settled = { fds: readdirSync(`/proc/${server.pid}/fd`).length, rss: server.rssKiB() };
      const cycler = new Learner(server.url);
      const made = await cycler.request('POST', '/api/sandboxes', {});
      expect(made.status, JSON.stringify(made.json)).toBe(201);
      namespaces.push(made.json.namespace);
      const uid = await kubectl(['-n', made.json.namespace, 'get', 'pod', 'toolbox', '-o', 'jsonpath={.metadata.uid}']);
      // The check below looks for cgroups that should be gone; it means something only if a live one is found.
      if (i === 0) expect(podCgroup(uid), `the live toolbox ${uid} has a cgroup on this node`).toBeDefined();
      uids.push(uid);
      expect((await cycler.request('DELETE', `/api/sandboxes/${made.json.id}`)).status).toBe(204);
    }
    const remaining = async () => {
      const listed = await kubectl([
        'get',
        'ns',
        '-l',
        `${LABELS.managed}=true`,
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ]);
      return listed.split(' ').filter((n) => namespaces.includes(n));
    };
    await waitFor('every cycled namespace to be gone', async () => (await remaining()).length === 0, 600_000);
    await waitFor('every cycled Pod’s processes to be gone', async () => liveCgroups(uids).length === 0, 120_000);
    const after = { fds: readdirSync(`/proc/${server.pid}/fd`).length, rss: server.rssKiB() };
    expect(await remaining()).toEqual([]);
    expect(liveCgroups(uids)).toEqual([]);
    expect(after.fds - before.fds).toBeLessThan(20);
    // The process survived 100 cycles inside a 96 MiB heap, and its resident memory stayed bounded.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const growth = `RSS ${before.rss} → ${settled.rss} (after 50) → ${after.rss} KiB`;
    expect(after.rss, growth).toBeLessThan(before.rss + 80 * 1024);
  }, 1_200_000);
});
