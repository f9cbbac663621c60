import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { Repository, SCHEMA_VERSION } from './repository.ts';

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

describe('Repository', () => {
  it('keeps progress and check history per session, across reopening the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slab-repo-'));
    dirs.push(dir);
    const file = join(dir, 'lab.db');
    const first = new Repository(file);
    first.markLessonRead('s1', 'introduction');
    first.markLessonRead('s1', 'introduction');
    first.recordCheck({ session: 's1', sandbox: 'a', exercise: 'first-sidecar', status: 'fail', report: '{}' });
    first.recordCheck({ session: 's1', sandbox: 'a', exercise: 'first-sidecar', status: 'pass', report: '{"ok":1}' });
    first.recordCheck({ session: 's2', sandbox: 'b', exercise: 'logging-sidecar', status: 'pass', report: '{}' });
    first.close();

    const again = new Repository(file);
    expect(again.progress('s1')).toEqual({ lessonsRead: ['introduction'], exercisesPassed: ['first-sidecar'] });
    expect(again.progress('nobody')).toEqual({ lessonsRead: [], exercisesPassed: [] });
    const history = again.checkHistory('s1', 'first-sidecar');
    expect(history.map((h) => h.status)).toEqual(['pass', 'fail']);
    expect(history[0]?.report).toBe('{"ok":1}');
    again.close();
  });

  it('migrates a file of the first release in place: its runs stay and count as attempts; new ones say their trigger', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slab-repo-'));
    dirs.push(dir);
    const file = join(dir, 'lab.db');
    firstReleaseFile(file);

    const migrated = new Repository(file);
    expect(migrated.checkHistory('s1').map((r) => [r.report, r.trigger])).toEqual([
      ['{"old":2}', 'manual'],
      ['{"old":1}', 'manual'],
    ]);
    migrated.recordCheck({ session: 's1', sandbox: 'a', exercise: 'first-sidecar', status: 'fail', report: '{}' });
    migrated.recordCheck({
      session: 's1',
      sandbox: 'a',
      exercise: 'first-sidecar',
      status: 'pass',
      report: '{}',
      trigger: 'auto',
    });
    migrated.close();

    // Opening it again runs no step twice (a second ADD COLUMN would throw) and keeps everything.
    const reopened = new Repository(file);
    expect(reopened.checkHistory('s1').map((r) => r.trigger)).toEqual(['auto', 'manual', 'manual', 'manual']);
    expect(reopened.progress('s1').exercisesPassed).toEqual(['first-sidecar']);
    reopened.close();
    const raw = new DatabaseSync(file);
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION });
    // The column refuses anything but the two triggers, as a fresh file's would.
    expect(() =>
      raw.exec(
        "INSERT INTO check_runs (session, sandbox, exercise, status, report, created_at, triggered_by) VALUES ('s', 'a', 'e', 'pass', '{}', 'now', 'bot')",
      ),
    ).toThrow(/CHECK constraint/);
    raw.close();
  });

  it('keeps one save per learner until its retention ends, and forgets it on request', () => {
    const repo = new Repository(':memory:');
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
    repo.putSave(save);
    repo.putSave({ ...save, reason: 'save-and-stop' });
    expect(repo.save('o1', new Date('2026-12-01T00:00:00Z'))).toEqual({ ...save, reason: 'save-and-stop' });
    repo.markSaveRestored('o1', 'sbx-1');
    expect(repo.save('o1', new Date('2026-12-01T00:00:00Z'))?.restoredInto).toBe('sbx-1');
    expect(repo.save('o1', new Date('2026-12-31T00:00:00Z'))).toBeUndefined();
    expect(repo.purgeSaves(new Date('2026-12-31T00:00:00Z'))).toBe(1);
    repo.putSave(save);
    expect(repo.deleteSave('o1')).toBe(true);
    expect(repo.deleteSave('o1')).toBe(false);
    repo.close();
  });
});
