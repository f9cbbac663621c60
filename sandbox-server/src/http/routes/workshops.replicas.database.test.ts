// Two server replicas on one PostgreSQL database: a ticket minted by replica A opens the dashboard stream on replica B,
// and a check stored through A redraws that stream. The apps run through app.request(); no sandbox is involved, so the cluster is an empty list.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../tests/support/store-backends.ts';
import { appDeps, browserWith, signedCookie } from '../../../test/app-request.ts';
import type { Sandbox } from '../../sandboxes/sandboxes.ts';
import { PostgresRepository } from '../../store/postgres.ts';
import { type SandboxPort, WorkshopService } from '../../workshops/workshops.ts';
import { createApp } from '../app.ts';
import { SessionSigner } from '../session.ts';

const opened: PostgresRepository[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((r) => r.close()));
});

const log = pino({ level: 'silent' });
const signer = new SessionSigner('x'.repeat(40));
const noSandboxes = { list: async () => [] } as unknown as SandboxPort;

async function replica(url: string) {
  const repo = await PostgresRepository.open(url);
  opened.push(repo);
  const workshops = new WorkshopService(repo, noSandboxes, { maxMinutes: 240, maxSandboxes: 30 }, log);
  const app = createApp(
    appDeps(repo, signer, {
      sandboxes: { toView: (s: Sandbox) => ({ id: s.id }) } as never,
      log,
      workshops,
    }),
  );
  return { repo, workshops, app };
}

/** Reads server-sent `state` events from a stream until one satisfies `done`; returns the ones read. */
async function readStates(body: ReadableStream<Uint8Array>, done: (state: Record<string, unknown>) => boolean) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const states: Array<Record<string, unknown>> = [];
  let buffer = '';
  try {
    while (true) {
      const { value, done: ended } = await reader.read();
      if (ended) throw new Error(`the stream ended after ${states.length} state(s)`);
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (event.includes('event: state') && data) {
          const state = JSON.parse(data) as Record<string, unknown>;
          states.push(state);
          if (done(state)) return states;
        }
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

describe('workshop dashboards across replicas', () => {
  it('opens on replica B with a ticket from replica A, and shows there a check stored through A', async () => {
    const url = await freshDatabase();
    const a = await replica(url);
    const b = await replica(url);
    const { workshop, token } = await a.workshops.create({ name: 'Two replicas', capacity: 5, durationMinutes: 60 });
    await a.repo.joinWorkshop(
      { id: 'aaaaaaaaaaaaaaaa', workshop: workshop.id, session: 's1', name: 'Ada', joinedAt: new Date().toISOString() },
      5,
    );

    // The page asks replica A for a ticket and opens its stream on replica B, as a load balancer may send them.
    const instructor = browserWith(() => a.app, signedCookie(signer));
    const minted = await instructor.call(
      'POST',
      `/api/workshops/${workshop.id}/tickets`,
      {},
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(minted.status, minted.text).toBe(201);
    const stream = await b.app.request(`/api/workshops/${workshop.id}/events?ticket=${minted.json.ticket}`, {
      headers: { cookie: instructor.cookie! },
    });
    expect(stream.status, 'a ticket minted by A opens the stream on B').toBe(200);
    const passed = (state: Record<string, unknown>) =>
      (state.exercises as Array<{ id: string; passed: number }>).find((e) => e.id === 'first-sidecar')?.passed === 1;
    // B hears of the change only through A's NOTIFY; its stream also redraws every 10 s on its own, and this tells
    // the two apart without timing anything.
    let heardByB = 0;
    b.workshops.subscribe(workshop.id, () => heardByB++);

    let checked: Promise<void> | undefined;
    const states = await readStates(stream.body!, (state) => {
      // The first state comes at once; the check is stored through A only then, so the grid must move after it.
      checked ??= a.repo
        .recordCheck({ session: 's1', sandbox: 'x', exercise: 'first-sidecar', status: 'pass', report: '{}' })
        .then((run) => a.workshops.noticeCheck(run.session));
      return passed(state);
    });
    await checked;
    expect(passed(states[0]!)).toBe(false);
    expect(states.at(-1)!.learners).toMatchObject([{ name: 'Ada', cells: { 'first-sidecar': { passed: true } } }]);
    expect(heardByB).toBeGreaterThan(0);
  });
});
