// The embedded store: SQLite through node:sqlite (built into Node 24). Every call is synchronous underneath, so
// a transaction can never interleave with another caller; the async signatures are the interface's.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  type CheckRunRecord,
  type CheckTrigger,
  countHitSql,
  type LearnerRecord,
  LocalChanges,
  optional,
  type ProgressRecord,
  type RateLimitCount,
  type RateLimitHit,
  type Repository,
  rateLimitHitValues,
  type SaveRecord,
  saveValues,
  type TallyRecord,
  toLearner,
  toRateLimitCount,
  toSave,
  toWorkshop,
  type WorkshopRecord,
  workshopValues,
} from './repository.ts';

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
CREATE TABLE IF NOT EXISTS workshops (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL,
  capacity INTEGER NOT NULL CHECK (capacity > 0), exercises TEXT NOT NULL,
  created_at TEXT NOT NULL, ends_at TEXT NOT NULL, ended_at TEXT
);
CREATE TABLE IF NOT EXISTS workshop_learners (
  id TEXT PRIMARY KEY, workshop TEXT NOT NULL REFERENCES workshops (id), session TEXT NOT NULL,
  name TEXT NOT NULL, joined_at TEXT NOT NULL, until TEXT, sandbox TEXT,
  UNIQUE (workshop, session)
);
CREATE INDEX IF NOT EXISTS workshop_learners_by_session ON workshop_learners (session);
`;

/**
 * Changes to SCHEMA after it first shipped, in order; `PRAGMA user_version` says how many a database has had. SCHEMA
 * itself stays as it was, so a new file and an old one end up the same by running the same steps. Only append.
 */
const MIGRATIONS: readonly string[] = [
  // 1: check runs say what started them; runs stored before this were all counted as attempts, so they stay manual.
  `ALTER TABLE check_runs ADD COLUMN triggered_by TEXT NOT NULL DEFAULT 'manual'
     CHECK (triggered_by IN ('manual', 'auto'));`,
  // 2: resume codes bind another browser to a learner's session; only their hash is kept, and at most one is live.
  `CREATE TABLE resume_codes (
     code_hash TEXT PRIMARY KEY,
     session TEXT NOT NULL,
     created_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE INDEX resume_codes_by_session ON resume_codes (session);`,
  // 3: a learner's saved work (home files and clean manifests), one per learner, keyed by the owner hash the
  // sandbox's namespace carries (the reaper saves without a session); `mac` proves the server wrote it.
  `CREATE TABLE saves (
     owner TEXT PRIMARY KEY, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, reason TEXT NOT NULL,
     files BLOB NOT NULL, manifests TEXT NOT NULL, size INTEGER NOT NULL, mac TEXT NOT NULL, restored_into TEXT
   );`,
  // 4: accounts from an OpenID Connect provider, each bound to the session that holds the learner's progress.
  `CREATE TABLE accounts (
     issuer TEXT NOT NULL, subject TEXT NOT NULL, session TEXT NOT NULL, name TEXT, linked_at TEXT NOT NULL,
     PRIMARY KEY (issuer, subject)
   );`,
  // 5: rate limit counters, one window per limiter and key (PostgreSQL's step 2 makes the same table).
  `CREATE TABLE rate_limit_hits (
     limiter TEXT NOT NULL, client_key TEXT NOT NULL, window_start TEXT NOT NULL, window_end TEXT NOT NULL,
     hits INTEGER NOT NULL CHECK (hits >= 0),
     PRIMARY KEY (limiter, client_key)
   );
   CREATE INDEX rate_limit_hits_by_end ON rate_limit_hits (window_end);`,
];

/** The version a database file has once every migration ran (its `PRAGMA user_version`). */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

export class SqliteRepository implements Repository {
  readonly #db: DatabaseSync;
  /** One file serves one process, so a change has no one else to reach. */
  readonly #changes = new LocalChanges();

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // WAL keeps readers from blocking the writer; a crash loses nothing already committed.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
    this.#db.exec(SCHEMA);
    this.#migrate();
  }

  /** Runs `work` in one write transaction (taken at once, so racing writers queue): all of it or none of it. */
  #inTransaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Brings an existing file up to date, each step in its own transaction with the version bump. */
  #migrate(): void {
    const version = Number(this.#db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
    for (const [index, step] of MIGRATIONS.entries()) {
      if (index < version) continue;
      try {
        this.#inTransaction(() => {
          this.#db.exec(step);
          this.#db.exec(`PRAGMA user_version = ${index + 1}`);
        });
      } catch (error) {
        throw new Error(`database migration ${index + 1} failed`, { cause: error });
      }
    }
  }

  async markLessonRead(session: string, lesson: string): Promise<void> {
    this.#db
      .prepare('INSERT OR IGNORE INTO lesson_reads (session, lesson, read_at) VALUES (?, ?, ?)')
      .run(session, lesson, new Date().toISOString());
  }

  /** Stores a verdict; `trigger` defaults to manual, as every run was before automatic re-checks were told apart. */
  async recordCheck(
    run: Omit<CheckRunRecord, 'id' | 'createdAt' | 'trigger'> & { trigger?: CheckTrigger },
  ): Promise<CheckRunRecord> {
    const createdAt = new Date().toISOString();
    const trigger = run.trigger ?? 'manual';
    const result = this.#db
      .prepare(
        `INSERT INTO check_runs (session, sandbox, exercise, status, report, triggered_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(run.session, run.sandbox, run.exercise, run.status, run.report, trigger, createdAt);
    return { ...run, trigger, id: Number(result.lastInsertRowid), createdAt };
  }

  async progress(session: string): Promise<ProgressRecord> {
    const lessons = this.#db.prepare('SELECT lesson FROM lesson_reads WHERE session = ? ORDER BY read_at').all(session);
    const passed = this.#db
      .prepare("SELECT DISTINCT exercise FROM check_runs WHERE session = ? AND status = 'pass' ORDER BY exercise")
      .all(session);
    return {
      lessonsRead: lessons.map((r) => String(r.lesson)),
      exercisesPassed: passed.map((r) => String(r.exercise)),
    };
  }

  async checkHistory(session: string, exercise?: string, limit = 20): Promise<CheckRunRecord[]> {
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
      trigger: String(r.triggered_by) as CheckTrigger,
      createdAt: String(r.created_at),
    }));
  }

  async createWorkshop(w: WorkshopRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO workshops (id, name, code, token_hash, capacity, exercises, created_at, ends_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...workshopValues(w));
  }

  async workshop(id: string): Promise<WorkshopRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM workshops WHERE id = ?').get(id);
    return row ? toWorkshop(row) : undefined;
  }

  async workshopByCode(code: string): Promise<WorkshopRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM workshops WHERE code = ?').get(code);
    return row ? toWorkshop(row) : undefined;
  }

  /** Every workshop, newest first, with how many learners joined each. */
  async workshops(): Promise<Array<WorkshopRecord & { learners: number }>> {
    return this.#db
      .prepare(
        `SELECT w.*, (SELECT COUNT(*) FROM workshop_learners l WHERE l.workshop = w.id) AS learners
         FROM workshops w ORDER BY w.created_at DESC`,
      )
      .all()
      .map((r) => ({ ...toWorkshop(r), learners: Number(r.learners) }));
  }

  async updateWorkshop(id: string, change: { endsAt?: string; endedAt?: string }): Promise<void> {
    if (change.endsAt) this.#db.prepare('UPDATE workshops SET ends_at = ? WHERE id = ?').run(change.endsAt, id);
    if (change.endedAt) this.#db.prepare('UPDATE workshops SET ended_at = ? WHERE id = ?').run(change.endedAt, id);
  }

  /**
   * Adds a learner unless the workshop is full; the same session joining again gets its existing row. One
   * transaction, so two learners racing for the last place cannot both get it.
   */
  async joinWorkshop(
    learner: Omit<LearnerRecord, 'until' | 'sandbox'>,
    capacity: number,
  ): Promise<{ learner: LearnerRecord; joined: boolean } | 'full'> {
    return this.#inTransaction(() => {
      const existing = this.#db
        .prepare('SELECT * FROM workshop_learners WHERE workshop = ? AND session = ?')
        .get(learner.workshop, learner.session);
      let result: { learner: LearnerRecord; joined: boolean } | 'full';
      if (existing) {
        result = { learner: toLearner(existing), joined: false };
      } else {
        const count = this.#db
          .prepare('SELECT COUNT(*) AS n FROM workshop_learners WHERE workshop = ?')
          .get(learner.workshop);
        if (Number(count?.n) >= capacity) {
          result = 'full';
        } else {
          this.#db
            .prepare('INSERT INTO workshop_learners (id, workshop, session, name, joined_at) VALUES (?, ?, ?, ?, ?)')
            .run(learner.id, learner.workshop, learner.session, learner.name, learner.joinedAt);
          result = { learner: { ...learner }, joined: true };
        }
      }
      return result;
    });
  }

  /** The learners of a workshop in join order. */
  async learners(workshop: string): Promise<LearnerRecord[]> {
    return this.#db
      .prepare('SELECT * FROM workshop_learners WHERE workshop = ? ORDER BY joined_at, rowid')
      .all(workshop)
      .map(toLearner);
  }

  async learner(workshop: string, id: string): Promise<LearnerRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM workshop_learners WHERE workshop = ? AND id = ?').get(workshop, id);
    return row ? toLearner(row) : undefined;
  }

  /** Where a session is a learner, newest workshop first. */
  async memberships(session: string): Promise<Array<{ learner: LearnerRecord; workshop: WorkshopRecord }>> {
    return this.#db
      .prepare(
        `SELECT l.id AS l_id, l.workshop, l.session, l.name AS l_name, l.joined_at, l.until, l.sandbox, w.*
         FROM workshop_learners l JOIN workshops w ON w.id = l.workshop
         WHERE l.session = ? ORDER BY l.joined_at DESC`,
      )
      .all(session)
      .map((r) => ({ learner: toLearner({ ...r, id: r.l_id, name: r.l_name }), workshop: toWorkshop(r) }));
  }

  async updateLearner(id: string, change: { sandbox?: string; until?: string }): Promise<void> {
    if (change.sandbox)
      this.#db.prepare('UPDATE workshop_learners SET sandbox = ? WHERE id = ?').run(change.sandbox, id);
    if (change.until) this.#db.prepare('UPDATE workshop_learners SET until = ? WHERE id = ?').run(change.until, id);
  }

  /**
   * Each learner's checks per exercise, counted from when they joined until the workshop ended: what they did
   * on their own before or after does not count, and automatic re-checks are verdicts but not attempts.
   */
  async workshopTallies(workshop: string): Promise<TallyRecord[]> {
    return this.#db
      .prepare(
        `SELECT t.learner, t.exercise, t.attempts, t.first_pass_at, r.status AS last, r.report AS last_report
         FROM (
           SELECT l.id AS learner, c.exercise, MAX(c.id) AS last_id,
                  COUNT(CASE WHEN c.triggered_by = 'manual' THEN 1 END) AS attempts,
                  MIN(CASE WHEN c.status = 'pass' THEN c.created_at END) AS first_pass_at
           FROM workshop_learners l
           JOIN workshops w ON w.id = l.workshop
           JOIN check_runs c ON c.session = l.session AND c.created_at >= l.joined_at
                            AND (w.ended_at IS NULL OR c.created_at <= w.ended_at)
           WHERE l.workshop = ?
           GROUP BY l.id, c.exercise
         ) t JOIN check_runs r ON r.id = t.last_id`,
      )
      .all(workshop)
      .map((r) => {
        const firstPassAt = optional(r.first_pass_at);
        return {
          learner: String(r.learner),
          exercise: String(r.exercise),
          attempts: Number(r.attempts),
          last: String(r.last) as TallyRecord['last'],
          lastReport: String(r.last_report),
          ...(firstPassAt ? { firstPassAt } : {}),
        };
      });
  }

  /** Stores a new resume code for `session`, revoking any earlier one: a learner has one live code at a time. */
  async createResumeCode(session: string, codeHash: string): Promise<string> {
    const now = new Date().toISOString();
    this.#inTransaction(() => {
      this.#revoke(session);
      this.#db
        .prepare('INSERT INTO resume_codes (code_hash, session, created_at) VALUES (?, ?, ?)')
        .run(codeHash, session, now);
    });
    return now;
  }

  /** The session a live code resumes, or undefined for an unknown or revoked one. */
  async resumeSession(codeHash: string): Promise<string | undefined> {
    const row = this.#db
      .prepare('SELECT session FROM resume_codes WHERE code_hash = ? AND revoked_at IS NULL')
      .get(codeHash);
    return optional(row?.session);
  }

  /** When the session's live code was made, if it has one. */
  async resumeCodeCreatedAt(session: string): Promise<string | undefined> {
    const row = this.#db
      .prepare('SELECT created_at FROM resume_codes WHERE session = ? AND revoked_at IS NULL')
      .get(session);
    return optional(row?.created_at);
  }

  /**
   * The session an account's progress lives in. The first sign-in binds the account to the session that signs in, so
   * what the learner did before signing in stays theirs; later sign-ins, on any device, return that session.
   */
  async accountSession(issuer: string, subject: string, session: string, name?: string): Promise<string> {
    this.#db
      .prepare('INSERT OR IGNORE INTO accounts (issuer, subject, session, name, linked_at) VALUES (?, ?, ?, ?, ?)')
      .run(issuer, subject, session, name ?? null, new Date().toISOString());
    const row = this.#db.prepare('SELECT session FROM accounts WHERE issuer = ? AND subject = ?').get(issuer, subject);
    return String(row?.session);
  }

  /** The account bound to a session, if any: its display name (or subject). */
  async accountOf(session: string): Promise<{ issuer: string; name: string } | undefined> {
    const row = this.#db.prepare('SELECT issuer, subject, name FROM accounts WHERE session = ?').get(session);
    return row ? { issuer: String(row.issuer), name: optional(row.name) ?? String(row.subject) } : undefined;
  }

  /** Revokes the session's live code; returns whether there was one. */
  async revokeResumeCodes(session: string): Promise<boolean> {
    return this.#revoke(session);
  }

  /** Synchronous, so createResumeCode can call it inside its transaction. */
  #revoke(session: string): boolean {
    const result = this.#db
      .prepare('UPDATE resume_codes SET revoked_at = ? WHERE session = ? AND revoked_at IS NULL')
      .run(new Date().toISOString(), session);
    return Number(result.changes) > 0;
  }

  /** Stores a learner's save, replacing their previous one. */
  async putSave(save: SaveRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO saves (owner, created_at, expires_at, reason, files, manifests, size, mac, restored_into)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...saveValues(save));
  }

  /** A learner's save, unless its retention ended. */
  async save(owner: string, now = new Date()): Promise<SaveRecord | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM saves WHERE owner = ? AND expires_at > ?')
      .get(owner, now.toISOString());
    return row ? toSave(row) : undefined;
  }

  async markSaveRestored(owner: string, sandbox: string): Promise<void> {
    this.#db.prepare('UPDATE saves SET restored_into = ? WHERE owner = ?').run(sandbox, owner);
  }

  async deleteSave(owner: string): Promise<boolean> {
    return Number(this.#db.prepare('DELETE FROM saves WHERE owner = ?').run(owner).changes) > 0;
  }

  /** Deletes saves past their retention; returns how many. */
  async purgeSaves(now = new Date()): Promise<number> {
    return Number(this.#db.prepare('DELETE FROM saves WHERE expires_at <= ?').run(now.toISOString()).changes);
  }

  async countHit(hit: RateLimitHit): Promise<RateLimitCount> {
    const row = this.#db.prepare(countHitSql(['?', '?', '?', '?'])).get(...rateLimitHitValues(hit));
    return toRateLimitCount(row ?? {});
  }

  async uncountHit(limiter: string, key: string): Promise<void> {
    this.#db
      .prepare('UPDATE rate_limit_hits SET hits = hits - 1 WHERE limiter = ? AND client_key = ? AND hits > 0')
      .run(limiter, key);
  }

  async hits(limiter: string, key: string, now = new Date()): Promise<RateLimitCount | undefined> {
    const row = this.#db
      .prepare('SELECT hits, window_end FROM rate_limit_hits WHERE limiter = ? AND client_key = ? AND window_end > ?')
      .get(limiter, key, now.toISOString());
    return row ? toRateLimitCount(row) : undefined;
  }

  async resetHits(limiter: string, key: string): Promise<void> {
    this.#db.prepare('DELETE FROM rate_limit_hits WHERE limiter = ? AND client_key = ?').run(limiter, key);
  }

  async purgeRateLimits(now = new Date()): Promise<number> {
    return Number(this.#db.prepare('DELETE FROM rate_limit_hits WHERE window_end <= ?').run(now.toISOString()).changes);
  }

  async announceWorkshopChange(workshop: string): Promise<void> {
    this.#changes.emit(workshop);
  }

  onWorkshopChange(listener: (workshop: string) => void): () => void {
    return this.#changes.on(listener);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
