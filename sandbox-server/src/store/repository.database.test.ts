import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { storeBackends, storesOn } from '../../../tests/support/store-backends.ts';
import { SQLITE_SCHEMA_VERSION, SqliteRepository } from './sqlite.ts';

/** A database file as the first release wrote it: check runs without a trigger, user_version 0. */
function firstReleaseFile(file: string): void {
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE check_runs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      session TEXT NOT NULL, sandbox TEXT NOT NULL, exercise TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error')),
      report TEXT NOT NULL, created_at TEXT NOT NULL
    );
    CREATE INDEX check_runs_by_session ON check_runs (session, exercise);`);
  const insert = db.prepare(
    'INSERT INTO check_runs (session, sandbox, exercise, status, report, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  insert.run('s1', 'a', 'first-sidecar', 'fail', '{"old":1}', '2026-01-01T10:00:00.000Z');
  insert.run('s1', 'a', 'first-sidecar', 'pass', '{"old":2}', '2026-01-01T10:01:00.000Z');
  db.close();
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.each(storeBackends)('Repository on $name', (backend) => {
  const stores = storesOn(backend);

  it('keeps progress and check history per session, across reopening the store', async () => {
    const { repo: first, reopen } = await stores.open();
    await first.markLessonRead('s1', 'introduction');
    await first.markLessonRead('s1', 'introduction');
    await first.recordCheck({ session: 's1', sandbox: 'a', exercise: 'first-sidecar', status: 'fail', report: '{}' });
    await first.recordCheck({
      session: 's1',
      sandbox: 'a',
      exercise: 'first-sidecar',
      status: 'pass',
      report: '{"ok":1}',
    });
    await first.recordCheck({ session: 's2', sandbox: 'b', exercise: 'logging-sidecar', status: 'pass', report: '{}' });
    await first.close();

    const again = await reopen();
    expect(await again.progress('s1')).toEqual({ lessonsRead: ['introduction'], exercisesPassed: ['first-sidecar'] });
    expect(await again.progress('nobody')).toEqual({ lessonsRead: [], exercisesPassed: [] });
    const history = await again.checkHistory('s1', 'first-sidecar');
    expect(history.map((h) => h.status)).toEqual(['pass', 'fail']);
    expect(history[0]?.report).toBe('{"ok":1}');
    expect((await again.checkHistory('s1', undefined, 1)).map((h) => h.report)).toEqual(['{"ok":1}']);
  });

  it('keeps one save per learner until its retention ends, and forgets it on request', async () => {
    const { repo } = await stores.open();
    const save = {
      owner: 'o1',
      createdAt: '2026-11-30T10:00:00.000Z',
      expiresAt: '2026-12-30T10:00:00.000Z',
      reason: 'expired',
      files: Buffer.from([0x1f, 0x8b, 0, 255]),
      manifests: '[]',
      size: 6,
      mac: 'm',
    };
    await repo.putSave(save);
    await repo.putSave({ ...save, reason: 'save-and-stop' });
    expect(await repo.save('o1', new Date('2026-12-01T00:00:00Z'))).toEqual({ ...save, reason: 'save-and-stop' });
    await repo.markSaveRestored('o1', 'sbx-1');
    expect((await repo.save('o1', new Date('2026-12-01T00:00:00Z')))?.restoredInto).toBe('sbx-1');
    expect(await repo.save('o1', new Date('2026-12-31T00:00:00Z'))).toBeUndefined();
    expect(await repo.purgeSaves(new Date('2026-12-31T00:00:00Z'))).toBe(1);
    await repo.putSave(save);
    expect(await repo.deleteSave('o1')).toBe(true);
    expect(await repo.deleteSave('o1')).toBe(false);
    await repo.close();
  });

  it('keeps resume codes and accounts: one live code per session, the first sign-in binds the account', async () => {
    const { repo } = await stores.open();
    expect(await repo.resumeCodeCreatedAt('s1')).toBeUndefined();
    const first = await repo.createResumeCode('s1', 'h1');
    expect(await repo.resumeSession('h1')).toBe('s1');
    expect(await repo.resumeCodeCreatedAt('s1')).toBe(first);
    await repo.createResumeCode('s1', 'h2');
    expect(await repo.resumeSession('h1')).toBeUndefined();
    expect(await repo.resumeSession('h2')).toBe('s1');
    expect(await repo.revokeResumeCodes('s1')).toBe(true);
    expect(await repo.revokeResumeCodes('s1')).toBe(false);
    expect(await repo.resumeSession('h2')).toBeUndefined();

    expect(await repo.accountSession('https://idp', 'sub-1', 's1', 'Ada')).toBe('s1');
    expect(await repo.accountSession('https://idp', 'sub-1', 's2')).toBe('s1');
    expect(await repo.accountOf('s1')).toEqual({ issuer: 'https://idp', name: 'Ada' });
    expect(await repo.accountSession('https://idp', 'sub-2', 's3')).toBe('s3');
    expect(await repo.accountOf('s3')).toEqual({ issuer: 'https://idp', name: 'sub-2' });
    expect(await repo.accountOf('s2')).toBeUndefined();
  });
});

describe('Repository on sqlite: migrations', () => {
  it('migrates a file of the first release in place: its runs stay and count as attempts; new ones say their trigger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slab-repo-'));
    dirs.push(dir);
    const file = join(dir, 'lab.db');
    firstReleaseFile(file);

    const migrated = new SqliteRepository(file);
    expect((await migrated.checkHistory('s1')).map((r) => [r.report, r.trigger])).toEqual([
      ['{"old":2}', 'manual'],
      ['{"old":1}', 'manual'],
    ]);
    await migrated.recordCheck({
      session: 's1',
      sandbox: 'a',
      exercise: 'first-sidecar',
      status: 'fail',
      report: '{}',
    });
    await migrated.recordCheck({
      session: 's1',
      sandbox: 'a',
      exercise: 'first-sidecar',
      status: 'pass',
      report: '{}',
      trigger: 'auto',
    });
    await migrated.close();

    // Opening it again runs no step twice (a second ADD COLUMN would throw) and keeps everything.
    const reopened = new SqliteRepository(file);
    expect((await reopened.checkHistory('s1')).map((r) => r.trigger)).toEqual(['auto', 'manual', 'manual', 'manual']);
    expect((await reopened.progress('s1')).exercisesPassed).toEqual(['first-sidecar']);
    await reopened.close();
    const raw = new DatabaseSync(file);
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: SQLITE_SCHEMA_VERSION });
    // The column refuses anything but the two triggers, as a fresh file's would.
    expect(() =>
      raw.exec(
        "INSERT INTO check_runs (session, sandbox, exercise, status, report, created_at, triggered_by) VALUES ('s', 'a', 'e', 'pass', '{}', 'now', 'bot')",
      ),
    ).toThrow(/CHECK constraint/);
    raw.close();
  });
});
