// Progress and check history in SQLite (node:sqlite, built into Node 24): the one module that touches the database.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface CheckRunRecord {
  id: number;
  session: string;
  sandbox: string;
  exercise: string;
  status: 'pass' | 'fail' | 'error';
  /** The full report with evidence, as JSON. */
  report: string;
  createdAt: string;
}

export interface ProgressRecord {
  lessonsRead: string[];
  exercisesPassed: string[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS lesson_reads (
  session TEXT NOT NULL, lesson TEXT NOT NULL, read_at TEXT NOT NULL,
  PRIMARY KEY (session, lesson)
);
CREATE TABLE IF NOT EXISTS check_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session TEXT NOT NULL, sandbox TEXT NOT NULL, exercise TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error')),
  report TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS check_runs_by_session ON check_runs (session, exercise);
`;

export class Repository {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // WAL keeps readers from blocking the writer; a crash loses nothing already committed.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
    this.#db.exec(SCHEMA);
  }

  markLessonRead(session: string, lesson: string): void {
    this.#db
      .prepare('INSERT OR IGNORE INTO lesson_reads (session, lesson, read_at) VALUES (?, ?, ?)')
      .run(session, lesson, new Date().toISOString());
  }

  recordCheck(run: Omit<CheckRunRecord, 'id' | 'createdAt'>): CheckRunRecord {
    const createdAt = new Date().toISOString();
    const result = this.#db
      .prepare(
        'INSERT INTO check_runs (session, sandbox, exercise, status, report, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(run.session, run.sandbox, run.exercise, run.status, run.report, createdAt);
    return { ...run, id: Number(result.lastInsertRowid), createdAt };
  }

  progress(session: string): ProgressRecord {
    const lessons = this.#db.prepare('SELECT lesson FROM lesson_reads WHERE session = ? ORDER BY read_at').all(session);
    const passed = this.#db
      .prepare("SELECT DISTINCT exercise FROM check_runs WHERE session = ? AND status = 'pass' ORDER BY exercise")
      .all(session);
    return {
      lessonsRead: lessons.map((r) => String(r.lesson)),
      exercisesPassed: passed.map((r) => String(r.exercise)),
    };
  }

  checkHistory(session: string, exercise?: string, limit = 20): CheckRunRecord[] {
    const rows = exercise
      ? this.#db
          .prepare('SELECT * FROM check_runs WHERE session = ? AND exercise = ? ORDER BY id DESC LIMIT ?')
          .all(session, exercise, limit)
      : this.#db.prepare('SELECT * FROM check_runs WHERE session = ? ORDER BY id DESC LIMIT ?').all(session, limit);
    return rows.map((r) => ({
      id: Number(r.id),
      session: String(r.session),
      sandbox: String(r.sandbox),
      exercise: String(r.exercise),
      status: String(r.status) as CheckRunRecord['status'],
      report: String(r.report),
      createdAt: String(r.created_at),
    }));
  }

  close(): void {
    this.#db.close();
  }
}
