// The workspace routes on the real server and cluster: the live Pod picture (its own sandbox only, the toolbox left
// out, a native sidecar's order, volumes and ports, a restart seen as it happens) and terminal tabs (one tmux session
// each, listed and closed, within the per-session terminal cap, found again after the server is killed).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlRaw, waitFor } from '../../tests/support/kubectl.ts';
import { POD_VIEW_DEMO, podViewDemoYaml } from '../../tests/support/pod-view-demo.ts';
import { type PodsFrame, podsFrame } from '../src/protocol/pod-view.ts';
import type { RunningServer } from '../src/server.ts';
import { Learner, readServerSentEvents, startChildServer, startTestServer, type TerminalClient } from './harness.ts';

const CAP = 3;
let server: RunningServer;
let learner: Learner;
let sandbox: { id: string; namespace: string };

beforeAll(async () => {
  ({ server } = await startTestServer({ SIDECAR_LAB_MAX_TERMINALS_PER_SESSION: String(CAP) }));
  learner = new Learner(server.url);
  const created = await learner.request('POST', '/api/sandboxes', {});
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  sandbox = created.json;
});

afterAll(async () => {
  if (sandbox) await kubectlRaw(['delete', 'namespace', sandbox.namespace, '--wait=false']);
  await server?.close();
});

/** Follows the Pod stream, keeping every frame (each validated against the model as the page does). */
async function followPods(who: Learner, id: string) {
  const controller = new AbortController();
  const response = await fetch(`${who.base}/api/sandboxes/${id}/pods`, {
    headers: { cookie: who.cookie },
    signal: controller.signal,
  });
  const frames: PodsFrame[] = [];
  if (response.status === 200) {
    readServerSentEvents(response.body!, (event, data) => {
      if (event === 'pods') frames.push(podsFrame.parse(JSON.parse(data ?? '')));
    });
  }
  return { status: response.status, frames, stop: () => controller.abort() };
}

describe('the Pod picture stream', () => {
  it('answers 404 for another learner’s sandbox, like a missing one', async () => {
    const stranger = new Learner(server.url);
    await stranger.request('GET', '/api/progress');
    const theirs = await followPods(stranger, sandbox.id);
    const missing = await followPods(stranger, 'sbx-0000000000000000');
    theirs.stop();
    missing.stop();
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
  });

  it('draws a native sidecar in start order with its volumes and ports, and sees it restart', async () => {
    const stream = await followPods(learner, sandbox.id);
    expect(stream.status).toBe(200);
    try {
      // The first frame comes from the first list: the namespace holds only the toolbox, which is not drawn.
      await waitFor('the first frame', async () => stream.frames.length > 0);
      expect(stream.frames[0]!.pods).toEqual([]);

      await kubectl(['-n', sandbox.namespace, 'apply', '-f', '-'], podViewDemoYaml);
      const running = await waitFor('the demo Pod running in the picture', async () => {
        const pod = stream.frames.at(-1)?.pods.find((p) => p.name === POD_VIEW_DEMO);
        return pod?.ready ? pod : undefined;
      });
      expect(running.containers.map((c) => [c.name, c.kind])).toEqual([
        ['prepare', 'init'],
        ['log-shipper', 'sidecar'],
        ['web', 'app'],
      ]);
      const [prepare, shipper, web] = running.containers;
      expect(prepare).toMatchObject({ state: 'terminated', reason: 'Completed', exitCode: 0 });
      expect(shipper).toMatchObject({ state: 'running', ready: true, restarts: 0 });
      expect(shipper!.mounts).toEqual([{ volume: 'logs', path: '/logs', readOnly: true }]);
      expect(web).toMatchObject({
        state: 'running',
        ready: true,
        ports: [{ port: 80, protocol: 'TCP', name: 'http' }],
      });
      expect(web!.mounts).toEqual([
        { volume: 'logs', path: '/var/log/nginx', readOnly: false },
        { volume: 'site', path: '/usr/share/nginx/html', readOnly: false },
      ]);
      expect(running.volumes).toEqual([
        { name: 'logs', kind: 'emptyDir' },
        { name: 'site', kind: 'emptyDir' },
      ]);

      await kubectl(['-n', sandbox.namespace, 'exec', POD_VIEW_DEMO, '-c', 'log-shipper', '--', 'touch', '/tmp/die']);
      const restarted = await waitFor('the sidecar’s restart in the picture', async () => {
        const pod = stream.frames.at(-1)?.pods.find((p) => p.name === POD_VIEW_DEMO);
        const c = pod?.containers.find((x) => x.name === 'log-shipper');
        return c && c.restarts >= 1 ? c : undefined;
      });
      expect(restarted.lastTermination).toBe('Error (exit 3)');
      // The app container keeps running while its sidecar restarts.
      const web2 = stream.frames.at(-1)!.pods[0]!.containers.find((c) => c.name === 'web');
      expect(web2).toMatchObject({ state: 'running', restarts: 0 });
      // Frames are sent only when the picture changes: no two in a row are the same.
      for (let i = 1; i < stream.frames.length; i++) {
        expect(JSON.stringify(stream.frames[i]!.pods)).not.toBe(JSON.stringify(stream.frames[i - 1]!.pods));
      }
    } finally {
      stream.stop();
      await kubectlRaw(['-n', sandbox.namespace, 'delete', 'pod', POD_VIEW_DEMO, '--now', '--wait=false']);
    }
  });
});

describe('terminal tabs', () => {
  const open: TerminalClient[] = [];
  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
  });

  it('gives each tab its own shell, lists them, and closes one', async () => {
    const first = await learner.terminal(sandbox.id);
    const second = await learner.terminal(sandbox.id, undefined, 2);
    open.push(first, second);
    second.type('export WHERE=second; echo "tab=$WHERE $((20+22))"\r');
    await second.waitFor('tab=second 42', 30_000);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, typed into the first tab's shell.
    first.type('echo "tab=${WHERE:-first} $((40+2))"\r');
    await first.waitFor('tab=first 42', 30_000);
    expect((await learner.request('GET', `/api/sandboxes/${sandbox.id}/terminals`)).json).toEqual({ tabs: [1, 2] });

    // A reconnect to tab 2 finds the same shell (its variable is still set).
    await second.close();
    const again = await learner.terminal(sandbox.id, undefined, 2);
    open.push(again);
    again.type('echo "again=$WHERE"\r');
    await again.waitFor('again=second', 30_000);
    await again.close();

    expect((await learner.request('DELETE', `/api/sandboxes/${sandbox.id}/terminals/2`)).status).toBe(204);
    expect((await learner.request('GET', `/api/sandboxes/${sandbox.id}/terminals`)).json).toEqual({ tabs: [1] });
    // The first tab is the sandbox's own session and cannot be closed; nor can a tab that does not exist.
    expect((await learner.request('DELETE', `/api/sandboxes/${sandbox.id}/terminals/1`)).status).toBe(400);
    expect((await learner.request('DELETE', `/api/sandboxes/${sandbox.id}/terminals/9`)).status).toBe(400);
    const stranger = new Learner(server.url);
    await stranger.request('GET', '/api/progress');
    expect((await stranger.request('GET', `/api/sandboxes/${sandbox.id}/terminals`)).status).toBe(404);
    expect((await stranger.request('DELETE', `/api/sandboxes/${sandbox.id}/terminals/2`)).status).toBe(404);
  });

  it('refuses a tab out of range, and counts tabs against the per-session terminal cap', async () => {
    await expect(learner.terminal(sandbox.id, undefined, 5)).rejects.toThrow('upgrade refused: 400');
    await expect(learner.terminal(sandbox.id, undefined, 0)).rejects.toThrow('upgrade refused: 400');
    const held = open.filter((t) => t.ws.readyState === t.ws.OPEN).length;
    for (let tab = 2; tab <= 1 + CAP - held; tab++) open.push(await learner.terminal(sandbox.id, undefined, tab));
    await expect(learner.terminal(sandbox.id, undefined, 4)).rejects.toThrow('upgrade refused: 429');
  });
});

describe('terminal tabs across a server restart', () => {
  it('finds both tabs and the shell of each again after a SIGKILL of the server', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slab-workspace-'));
    let child = await startChildServer({}, dataDir);
    const port = Number(new URL(child.url).port);
    const who = new Learner(child.url);
    const created = await who.request('POST', '/api/sandboxes', {});
    expect(created.status).toBe(201);
    const mine: { id: string; namespace: string } = created.json;
    try {
      const second = await who.terminal(mine.id, undefined, 2);
      second.type('export MARK=before-restart; clear\r');
      second.type('echo "mark=$MARK"\r');
      await second.waitFor('mark=before-restart', 30_000);
      await child.kill('SIGKILL');
      child = await startChildServer({}, dataDir, port);

      expect((await who.request('GET', `/api/sandboxes/${mine.id}/terminals`)).json).toEqual({ tabs: [1, 2] });
      const again = await who.terminal(mine.id, undefined, 2);
      again.type('echo "still=$MARK"\r');
      await again.waitFor('still=before-restart', 30_000);
      await again.close();
    } finally {
      await kubectlRaw(['delete', 'namespace', mine.namespace, '--wait=false']);
      await child.kill();
    }
  });
});
