// A workshop on the real cluster: created with the CLI, three learners in and a fourth refused, two passes on the live
// grid (pushed over SSE), attempts that count presses of Check and not live re-checks, where the room is stuck,
// exports that match, a server restart that loses nothing, a reset, and an end that deletes.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlRaw, waitFor, waitForPod } from '../../tests/support/kubectl.ts';
import { LABELS } from '../src/cluster/labels.ts';
import type { RunningServer } from '../src/server.ts';
import { Learner, readServerSentEvents, startTestServer } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields one by one and assert each.
type Json = any;

const ENV = { SIDECAR_LAB_MAX_SANDBOXES: '500' };
const SOLUTION = 'exercises/first-sidecar/solution/pod.yaml';

let server: RunningServer;
let dataDir: string;
let workshop: { id: string; code: string; token: string };
let learners: Learner[] = [];
let sandboxes: Array<{ id: string; namespace: string }> = [];

/** Runs `npm run workshop -- …` as the instructor would, on the server's data folder. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['sandbox-server/src/cli/workshop.ts', ...args],
      { env: { ...process.env, SIDECAR_LAB_DATA_DIR: dataDir }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The instructor's side of the API. */
async function instructor(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${workshop.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/** Reads the dashboard's event stream in the background, keeping every state with the time it arrived. */
async function listen(): Promise<{ states: Array<{ at: number; state: Json }>; stop: () => void }> {
  const { json } = await instructor('POST', `/api/workshops/${workshop.id}/tickets`, {});
  const controller = new AbortController();
  const response = await fetch(`${server.url}/api/workshops/${workshop.id}/events?ticket=${json.ticket}`, {
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const states: Array<{ at: number; state: Json }> = [];
  readServerSentEvents(response.body!, (event, data) => {
    if (event === 'state' && data) states.push({ at: Date.now(), state: JSON.parse(data) });
  });
  await waitFor('the first state on the stream', async () => states.length > 0, 10_000);
  return { states, stop: () => controller.abort() };
}

const cell = (state: Json, learnerIndex: number, exercise = 'first-sidecar') =>
  state.learners[learnerIndex]?.cells[exercise];

beforeAll(async () => {
  ({ server, dataDir } = await startTestServer(ENV));
});

afterAll(async () => {
  await server?.close();
  if (workshop) {
    // Whatever a failed test left behind: only namespaces carrying this test's workshop label.
    const left = await kubectlRaw(['get', 'ns', '-l', `${LABELS.workshop}=${workshop.id}`, '-o', 'name']);
    const names = left.stdout.split('\n').filter(Boolean);
    await Promise.all(names.map((n) => kubectlRaw(['delete', n, '--wait=false'])));
  }
});

describe('a workshop of capacity 3', () => {
  it('is created by the CLI on the running server’s data folder and is visible at once', async () => {
    const created = await cli([
      'create',
      '--name',
      'Sidecars <101>',
      '--capacity',
      '3',
      '--duration',
      '2h',
      '--exercises',
      'first-sidecar,logging-sidecar',
      '--url',
      server.url,
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    workshop = JSON.parse(created.stdout);
    expect(workshop.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    const state = await instructor('GET', `/api/workshops/${workshop.id}`);
    expect(state.status).toBe(200);
    expect(state.json).toMatchObject({ name: 'Sidecars <101>', capacity: 3, status: 'running', learners: [] });
    expect(state.json.exercises.map((e: Json) => e.id)).toEqual(['first-sidecar', 'logging-sidecar']);
  });

  it('takes three learners, each with a sandbox labelled for it, and refuses the fourth with a clear message', async () => {
    learners = Array.from({ length: 4 }, () => new Learner(server.url));
    for (const learner of learners) {
      const page = await learner.request('GET', `/join/${workshop.code}`);
      expect(page.status).toBe(200);
      expect(page.json).toContain('Sidecars &lt;101&gt;');
    }
    const joined = await Promise.all(
      learners
        .slice(0, 3)
        .map((l, i) => l.request('POST', '/api/workshops/join', { code: workshop.code, name: `Learner ${i + 1}` })),
    );
    for (const r of joined) {
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      expect(r.json.sandbox).toMatchObject({ status: 'ready', workshop: workshop.id });
    }
    sandboxes = joined.map((r) => r.json.sandbox);

    const fourth = await learners[3]!.request('POST', '/api/workshops/join', { code: workshop.code, name: 'Late' });
    expect(fourth.status).toBe(409);
    expect(fourth.json.error).toMatchObject({ code: 'workshop_full' });
    expect(fourth.json.error.message).toContain('this workshop is full: all 3 places are taken');
    const fullPage = await learners[3]!.request('GET', `/join/${workshop.code}`);
    expect(fullPage.status).toBe(409);
    expect(fullPage.json).toContain('This workshop is full');

    const labelled = await kubectl(['get', 'ns', '-l', `${LABELS.workshop}=${workshop.id}`, '-o', 'name']);
    expect(labelled.trim().split('\n').sort()).toEqual(sandboxes.map((s) => `namespace/${s.namespace}`).sort());
    // The course's own sandbox API hands each learner the workshop sandbox, not a second one.
    const again = await learners[0]!.request('POST', '/api/sandboxes', {});
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(sandboxes[0]!.id);
    // Expiry follows the workshop's end, not the ordinary sandbox lifetime.
    const state = (await instructor('GET', `/api/workshops/${workshop.id}`)).json;
    expect(state.learners.map((l: Json) => l.sandbox.expiresAt)).toEqual([state.endsAt, state.endsAt, state.endsAt]);
    expect(state.learners.map((l: Json) => l.sandbox.status)).toEqual(['ready', 'ready', 'ready']);
  });

  it('shows two passes and one failed attempt on the grid, pushed to the dashboard within 2 s of each check', async () => {
    const stream = await listen();
    try {
      await Promise.all(
        [0, 1].map(async (i) => {
          const ns = sandboxes[i]!.namespace;
          await kubectl(['-n', ns, 'apply', '-f', SOLUTION]);
          await waitForPod(ns, 'first-sidecar');
        }),
      );
      for (const i of [0, 1, 2]) {
        const check = await learners[i]!.request('POST', `/api/sandboxes/${sandboxes[i]!.id}/checks/first-sidecar`, {});
        expect(check.status).toBe(200);
        expect(check.json.status).toBe(i < 2 ? 'pass' : 'fail');
        // Pushed on the open stream (nothing polls it); how fast is the bench's business.
        await waitFor(
          `the stream to show learner ${i + 1}'s check`,
          async () => stream.states.some((s) => cell(s.state, i)?.attempts === 1),
          60_000,
        );
        const pushed = stream.states.find((s) => cell(s.state, i)?.attempts === 1)!;
        expect(cell(pushed.state, i).passed).toBe(i < 2);
      }
    } finally {
      stream.stop();
    }
    const state = (await instructor('GET', `/api/workshops/${workshop.id}`)).json;
    expect(state.learners.map((l: Json) => l.name)).toEqual(['Learner 1', 'Learner 2', 'Learner 3']);
    // Learner 3 has no Pod: the room is stuck (as far as it is) on the first check, and on nothing in logging-sidecar.
    expect(state.exercises).toEqual([
      {
        id: 'first-sidecar',
        title: 'Your first sidecar',
        passed: 2,
        stuck: {
          check: 'pod-exists',
          title: 'Pod "first-sidecar" exists',
          learners: [{ id: state.learners[2].id, name: 'Learner 3' }],
        },
      },
      { id: 'logging-sidecar', title: expect.any(String), passed: 0, stuck: null },
    ]);
    expect(cell(state, 0)).toMatchObject({ attempts: 1, passed: true, last: 'pass' });
    expect(cell(state, 1)).toMatchObject({ attempts: 1, passed: true, last: 'pass' });
    expect(cell(state, 2)).toEqual({ attempts: 1, passed: false, last: 'fail' });
    expect(cell(state, 0, 'logging-sidecar')).toEqual({ attempts: 0, passed: false });
  });

  it('counts two presses of Check as 2 attempts while ten namespace changes re-check automatically', async () => {
    const learner = learners[0]!;
    const { id, namespace } = sandboxes[0]!;
    const changes = await learner.changes(id);
    const check = async (body: object) => {
      const r = await learner.request('POST', `/api/sandboxes/${id}/checks/logging-sidecar`, body);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.status).toBe('fail'); // this namespace has no logging-sidecar Pod
    };
    try {
      await check({ trigger: 'manual' });
      for (let round = 1; round <= 10; round++) {
        // A real change to the namespace, then what the site does when the change stream reports it.
        const seen = changes.count();
        await kubectl(['-n', namespace, 'label', 'pod', 'first-sidecar', `round=${round}`, '--overwrite']);
        await waitFor(`change ${round} on the learner's stream`, async () => changes.count() > seen, 30_000);
        await check({ trigger: 'auto' });
        // Halfway, the learner presses Check; a page that does not say (an older one) counts as a press too.
        if (round === 5) await check({});
      }
    } finally {
      changes.stop();
    }

    const state = (await instructor('GET', `/api/workshops/${workshop.id}`)).json;
    expect(cell(state, 0, 'logging-sidecar')).toEqual({ attempts: 2, passed: false, last: 'fail' });
    expect(state.exercises[1].stuck).toEqual({
      check: 'pod-exists',
      title: 'Pod "logging-sidecar" exists',
      learners: [{ id: state.learners[0].id, name: 'Learner 1' }],
    });
    // Every run was stored, each marked with what started it (read through the server's store, SQLite or PostgreSQL).
    const member = await server.repo.learner(workshop.id, state.learners[0].id);
    const runs = (await server.repo.checkHistory(member!.session, 'logging-sidecar', 100)).filter(
      (r) => r.sandbox === id,
    );
    const count = (trigger: string) => runs.filter((r) => r.trigger === trigger).length;
    expect([count('auto'), count('manual')]).toEqual([10, 2]);

    const csv = await fetch(`${server.url}/api/workshops/${workshop.id}/export.csv`, {
      headers: { authorization: `Bearer ${workshop.token}` },
    });
    const lines = (await csv.text()).split('\r\n');
    expect(lines).toContain('Learner 1,logging-sidecar,false,2,');
    expect((await cli(['export', '--id', workshop.id])).stdout.split('\r\n')).toContain(
      'Learner 1,logging-sidecar,false,2,',
    );
  });

  it('exports CSV and JSON that match the grid, from the API and the CLI alike', async () => {
    const state = (await instructor('GET', `/api/workshops/${workshop.id}`)).json;
    const json = await instructor('GET', `/api/workshops/${workshop.id}/export.json`);
    expect(json.status).toBe(200);
    const expected = state.learners.flatMap((l: Json) =>
      ['first-sidecar', 'logging-sidecar'].map((exercise) => ({
        learner: l.name,
        exercise,
        passed: l.cells[exercise].passed,
        attempts: l.cells[exercise].attempts,
        firstPassAt: l.cells[exercise].firstPassAt ?? null,
      })),
    );
    expect(json.json.results).toEqual(expected);

    const csv = await fetch(`${server.url}/api/workshops/${workshop.id}/export.csv`, {
      headers: { authorization: `Bearer ${workshop.token}` },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain('sidecars-101-results.csv');
    const text = await csv.text();
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('learner,exercise,passed,attempts,first_pass_at');
    expect(lines.slice(1)).toEqual(
      expected.map((r: Json) => [r.learner, r.exercise, r.passed, r.attempts, r.firstPassAt ?? ''].join(',')),
    );
    const fromCli = await cli(['export', '--id', workshop.id]);
    expect(fromCli.stdout).toBe(text);
  });

  it('survives a server restart: learners, progress and sandboxes are found again', async () => {
    const before = (await instructor('GET', `/api/workshops/${workshop.id}`)).json;
    await server.close();
    ({ server } = await startTestServer(ENV, dataDir));
    learners = learners.map((l) => Object.assign(new Learner(server.url), { cookie: l.cookie }));
    const after = (await instructor('GET', `/api/workshops/${workshop.id}`)).json;
    const comparable = (s: Json) => ({ ...s, now: undefined });
    expect(comparable(after)).toEqual(comparable(before));
    const me = await learners[1]!.request('GET', '/api/workshops/me');
    expect(me.json).toMatchObject({
      workshop: { name: 'Sidecars <101>', status: 'running' },
      learner: { name: 'Learner 2' },
      sandbox: { id: sandboxes[1]!.id, status: 'ready' },
    });
    expect(JSON.stringify(me.json)).not.toMatch(/Learner [13]/);
    const rejoin = await learners[1]!.request('POST', '/api/workshops/join', { code: workshop.code, name: 'x' });
    expect(rejoin.status).toBe(200);
    expect(rejoin.json.sandbox.id).toBe(sandboxes[1]!.id);
  });

  it("extends everyone and resets one learner's sandbox, keeping their progress", async () => {
    const extended = await instructor('POST', `/api/workshops/${workshop.id}/extend`, { minutes: 20 });
    expect(extended.status).toBe(200);
    const endsAt = extended.json.state.endsAt;
    const annotation = await kubectl([
      'get',
      'ns',
      sandboxes[0]!.namespace,
      '-o',
      'jsonpath={.metadata.annotations.sidecar-lab\\.dev/expires-at}',
    ]);
    expect(annotation).toBe(endsAt);

    const learnerId = extended.json.state.learners[2].id;
    const reset = await instructor('POST', `/api/workshops/${workshop.id}/learners/${learnerId}/reset`, {});
    expect(reset.status, JSON.stringify(reset.json)).toBe(200);
    expect(reset.json.sandbox.namespace).not.toBe(sandboxes[2]!.namespace);
    expect(reset.json.sandbox.status).toBe('ready');
    const old = await kubectlRaw(['get', 'ns', sandboxes[2]!.namespace, '-o', 'jsonpath={.status.phase}']);
    expect(old.code !== 0 || old.stdout === 'Terminating').toBe(true);
    const row = reset.json.state.learners[2];
    expect(row.sandbox.namespace).toBe(reset.json.sandbox.namespace);
    expect(row.cells['first-sidecar']).toEqual({ attempts: 1, passed: false, last: 'fail' });
    const mine = await learners[2]!.request('GET', `/api/sandboxes/${reset.json.sandbox.id}`);
    expect(mine.status).toBe(200);
    sandboxes[2] = reset.json.sandbox;
  });

  it('ends: every namespace of the workshop goes, the grid stays, nobody joins any more', async () => {
    const ended = await instructor('POST', `/api/workshops/${workshop.id}/end`, {});
    expect(ended.status).toBe(200);
    expect(ended.json.deleted).toBe(3);
    await waitFor(
      'every workshop namespace to be gone or terminating',
      async () => {
        const left = await kubectl([
          'get',
          'ns',
          '-l',
          `${LABELS.workshop}=${workshop.id}`,
          '-o',
          'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}',
        ]);
        return left
          .split('\n')
          .filter(Boolean)
          .every((phase) => phase === 'Terminating');
      },
      60_000,
    );
    const state = (await instructor('GET', `/api/workshops/${workshop.id}`)).json;
    expect(state.status).toBe('ended');
    expect(state.exercises[0].passed).toBe(2);
    expect(state.learners).toHaveLength(3);
    const late = await new Learner(server.url).request('POST', '/api/workshops/join', {
      code: workshop.code,
      name: 'Late',
    });
    expect(late.status).toBe(410);
  });
});
