import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freshDatabase } from '../../../tests/support/store-backends.ts';
import { WorkshopService } from '../workshops/workshops.ts';
import { POSTGRES_SCHEMA_VERSION, PostgresRepository } from './postgres.ts';

const opened: PostgresRepository[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((r) => r.close()));
});

async function versions(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT version FROM schema_version ORDER BY version');
    return rows.map((r) => Number(r.version));
  } finally {
    await client.end();
  }
}

describe('PostgreSQL store: migrations', () => {
  it('migrates an empty database once when replicas start together, and not again on a restart', async () => {
    const url = await freshDatabase();
    // Without the advisory lock, racing CREATE TABLEs fail with duplicate-object errors.
    const replicas = await Promise.all([1, 2, 3, 4].map(() => PostgresRepository.open(url, { maxConnections: 2 })));
    opened.push(...replicas);
    const expected = Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1);
    expect(await versions(url)).toEqual(expected);

    await replicas[0]!.markLessonRead('s1', 'introduction');
    const restarted = await PostgresRepository.open(url);
    opened.push(restarted);
    expect(await versions(url)).toEqual(expected);
    expect((await restarted.progress('s1')).lessonsRead).toEqual(['introduction']);
  });

  it('refuses to start on a database it cannot reach, naming nothing but the error', async () => {
    const url = new URL(await freshDatabase());
    url.pathname = '/no_such_database';
    await expect(PostgresRepository.open(url.href)).rejects.toThrow(/no_such_database/);
  });
});

describe('PostgreSQL store: workshop changes between replicas', () => {
  const eventually = { timeout: 20_000, interval: 20 };

  it("hears another instance's announcements, and its own once", async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PostgresRepository.open(url), PostgresRepository.open(url)]);
    opened.push(a!, b!);
    const heardByA: string[] = [];
    const heardByB: string[] = [];
    a!.onWorkshopChange((w) => heardByA.push(w));
    b!.onWorkshopChange((w) => heardByB.push(w));

    await b!.announceWorkshopChange('w1');
    expect(heardByB).toEqual(['w1']); // at once, without the round trip
    await vi.waitFor(() => expect(heardByA).toEqual(['w1']), eventually);
    // B's own NOTIFY came back to B before A's next one (one connection hears them in commit order): it was dropped.
    await a!.announceWorkshopChange('w2');
    await vi.waitFor(() => expect(heardByB).toEqual(['w1', 'w2']), eventually);
    expect(heardByA).toEqual(['w1', 'w2']);
  });

  it('moves a dashboard served by one replica when a check is stored through another', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PostgresRepository.open(url), PostgresRepository.open(url)]);
    opened.push(a!, b!);
    const log = pino({ level: 'silent' });
    const settings = { maxMinutes: 240, maxSandboxes: 30 };
    const replicaA = new WorkshopService(a!, undefined, settings, log);
    const replicaB = new WorkshopService(b!, undefined, settings, log);
    const { workshop } = await replicaA.create({ name: 'Two replicas', capacity: 5, durationMinutes: 60 });
    await b!.joinWorkshop(
      { id: 'aaaaaaaaaaaaaaaa', workshop: workshop.id, session: 's1', name: 'Ada', joinedAt: new Date().toISOString() },
      5,
    );
    let changes = 0;
    replicaA.subscribe(workshop.id, () => changes++);

    const run = await b!.recordCheck({
      session: 's1',
      sandbox: 'x',
      exercise: 'first-sidecar',
      status: 'pass',
      report: '{}',
    });
    await replicaB.noticeCheck(run.session);
    await vi.waitFor(() => expect(changes).toBe(1), eventually);
    expect((await replicaA.results(workshop)).find((r) => r.exercise === 'first-sidecar')).toMatchObject({
      passed: true,
      attempts: 1,
    });
  });

  it('listens again after its listening connection is cut', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PostgresRepository.open(url), PostgresRepository.open(url)]);
    opened.push(a!, b!);
    const heard: string[] = [];
    a!.onWorkshopChange((w) => heard.push(w));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // Ends every LISTENing backend but this one, as a database restart would.
      const ended = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
      );
      expect(ended.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    await vi.waitFor(async () => {
      await b!.announceWorkshopChange('again');
      expect(heard).toContain('again');
    }, eventually);
  });
});
