// The shared store: PostgreSQL through node-postgres, for several server replicas. Same tables and the same answers as
// the SQLite store; times stay ISO-8601 text so both compare and order them the same way.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import {
  type CheckRunRecord,
  type CheckTrigger,
  countHitSql,
  type JoinResult,
  type LearnerRecord,
  LocalChanges,
  optional,
  type ProgressRecord,
  type RateLimitCount,
  type RateLimitHit,
  type Repository,
  type Row,
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

/**
 * The schema, one step per version; `schema_version` holds a row for each step a database has had. Only append: a
 * database of any earlier version reaches the same schema by running the steps it lacks.
 */
const MIGRATIONS: readonly string[] = [
  // 1: everything the SQLite store had at its version 4. Times are ISO-8601 text and, with exercise ids, sort in byte
  // order (COLLATE "C") as SQLite sorts, whatever locale the database was created with. `seq` keeps join order for
  // learners who joined in the same millisecond (SQLite orders them by rowid). bigint ids come back as strings and are
  // read with Number().
  `CREATE TABLE lesson_reads (
     session TEXT NOT NULL, lesson TEXT NOT NULL, read_at TEXT COLLATE "C" NOT NULL,
     PRIMARY KEY (session, lesson)
   );
   CREATE TABLE check_runs (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     session TEXT NOT NULL, sandbox TEXT NOT NULL, exercise TEXT COLLATE "C" NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error')),
     report TEXT NOT NULL, created_at TEXT COLLATE "C" NOT NULL,
     triggered_by TEXT NOT NULL DEFAULT 'manual' CHECK (triggered_by IN ('manual', 'auto'))
   );
   CREATE INDEX check_runs_by_session ON check_runs (session, exercise);
   CREATE TABLE workshops (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL,
     capacity INTEGER NOT NULL CHECK (capacity > 0), exercises TEXT NOT NULL,
     created_at TEXT COLLATE "C" NOT NULL, ends_at TEXT COLLATE "C" NOT NULL, ended_at TEXT COLLATE "C"
   );
   CREATE TABLE workshop_learners (
     id TEXT PRIMARY KEY, workshop TEXT NOT NULL REFERENCES workshops (id), session TEXT NOT NULL,
     name TEXT NOT NULL, joined_at TEXT COLLATE "C" NOT NULL, until TEXT COLLATE "C", sandbox TEXT,
     seq BIGINT GENERATED ALWAYS AS IDENTITY,
     UNIQUE (workshop, session)
   );
   CREATE INDEX workshop_learners_by_session ON workshop_learners (session);
   CREATE TABLE resume_codes (
     code_hash TEXT PRIMARY KEY, session TEXT NOT NULL,
     created_at TEXT COLLATE "C" NOT NULL, revoked_at TEXT COLLATE "C"
   );
   CREATE INDEX resume_codes_by_session ON resume_codes (session);
   CREATE TABLE saves (
     owner TEXT PRIMARY KEY, created_at TEXT COLLATE "C" NOT NULL, expires_at TEXT COLLATE "C" NOT NULL,
     reason TEXT NOT NULL,
     files BYTEA NOT NULL, manifests TEXT NOT NULL, size INTEGER NOT NULL, mac TEXT NOT NULL, restored_into TEXT
   );
   CREATE TABLE accounts (
     issuer TEXT NOT NULL, subject TEXT NOT NULL, session TEXT NOT NULL, name TEXT,
     linked_at TEXT COLLATE "C" NOT NULL,
     PRIMARY KEY (issuer, subject)
   );`,
  // 2: rate limit counters, one window per limiter and key, shared by the replicas (SQLite's step 5).
  `CREATE TABLE rate_limit_hits (
     limiter TEXT NOT NULL, client_key TEXT NOT NULL,
     window_start TEXT COLLATE "C" NOT NULL, window_end TEXT COLLATE "C" NOT NULL,
     hits INTEGER NOT NULL CHECK (hits >= 0),
     PRIMARY KEY (limiter, client_key)
   );
   CREATE INDEX rate_limit_hits_by_end ON rate_limit_hits (window_end);`,
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** The advisory lock replicas take to migrate one at a time (any fixed number; this one spells "SLAB"). */
const MIGRATION_LOCK = 0x534c4142;

/** The LISTEN/NOTIFY channel on which replicas tell each other that a workshop changed. */
const CHANNEL = 'sidecar_lab_workshops';
const announcement = z.object({ from: z.string(), workshop: z.string() });
/** How long to wait before listening again after the listening connection dropped. */
const RELISTEN_MS = 1_000;

type Queryable = Pick<pg.PoolClient, 'query'>;

export class PostgresRepository implements Repository {
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #changes = new LocalChanges();
  /** Tells this instance's own announcements apart from other replicas' when they come back through NOTIFY. */
  readonly #instance = randomUUID();
  /** A connection of its own for LISTEN: a pooled one would go back to the pool and stop hearing. */
  #listener: pg.Client | undefined;
  #closed = false;

  private constructor(pool: pg.Pool, url: string) {
    this.#pool = pool;
    this.#url = url;
  }

  /** Connects and brings the schema up to date; replicas starting together migrate once, one after the other. */
  static async open(url: string, options: { maxConnections?: number } = {}): Promise<PostgresRepository> {
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
    // An idle connection that the server drops emits here; the pool discards it and the next query opens a new one.
    pool.on('error', () => undefined);
    const repo = new PostgresRepository(pool, url);
    try {
      await repo.#migrate();
      await repo.#listen();
    } catch (error) {
      await repo.close();
      throw error;
    }
    return repo;
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url });
    client.on('notification', (message) => this.#heard(message.payload));
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#listener = client;
  }

  /**
   * The listening connection dropped (a database restart, a network cut): listen again until it works. Changes
   * announced meanwhile are not heard here; the dashboards' periodic refresh catches up with them.
   */
  #lost(client: pg.Client): void {
    if (this.#closed || this.#listener !== client) return;
    this.#listener = undefined;
    client.end().catch(() => undefined);
    const retry = () => {
      if (this.#closed) return;
      this.#listen().catch(() => setTimeout(retry, RELISTEN_MS).unref());
    };
    setTimeout(retry, RELISTEN_MS).unref();
  }

  #heard(payload: string | undefined): void {
    let parsed: z.infer<typeof announcement> | undefined;
    try {
      parsed = announcement.parse(JSON.parse(payload ?? ''));
    } catch {
      return; // not ours: anyone with access to the database can NOTIFY on the channel
    }
    if (parsed.from !== this.#instance) this.#changes.emit(parsed.workshop);
  }

  async announceWorkshopChange(workshop: string): Promise<void> {
    this.#changes.emit(workshop);
    await this.#pool.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ from: this.#instance, workshop })]);
  }

  onWorkshopChange(listener: (workshop: string) => void): () => void {
    return this.#changes.on(listener);
  }

  /** Runs `work` on one connection inside one transaction: all of it or none of it. */
  async #inTransaction<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** All pending steps in one transaction under an advisory lock: a replica that waited finds nothing left to do. */
  async #migrate(): Promise<void> {
    await this.#inTransaction(async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await db.query(
        'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const { rows } = await db.query('SELECT COALESCE(MAX(version), 0) AS version FROM schema_version');
      const version = Number(rows[0]?.version ?? 0);
      for (const [index, step] of MIGRATIONS.entries()) {
        if (index < version) continue;
        try {
          await db.query(step);
          await db.query('INSERT INTO schema_version (version) VALUES ($1)', [index + 1]);
        } catch (error) {
          throw new Error(`database migration ${index + 1} failed`, { cause: error });
        }
      }
    });
  }

  async #rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.#pool.query(sql, params)).rows as Row[];
  }

  async #row(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.#rows(sql, params))[0];
  }

  async #count(sql: string, params: unknown[]): Promise<number> {
    return (await this.#pool.query(sql, params)).rowCount ?? 0;
  }

  async markLessonRead(session: string, lesson: string): Promise<void> {
    await this.#pool.query(
      'INSERT INTO lesson_reads (session, lesson, read_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [session, lesson, new Date().toISOString()],
    );
  }

  async recordCheck(
    run: Omit<CheckRunRecord, 'id' | 'createdAt' | 'trigger'> & { trigger?: CheckTrigger },
  ): Promise<CheckRunRecord> {
    const createdAt = new Date().toISOString();
    const trigger = run.trigger ?? 'manual';
    const row = await this.#row(
      `INSERT INTO check_runs (session, sandbox, exercise, status, report, triggered_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [run.session, run.sandbox, run.exercise, run.status, run.report, trigger, createdAt],
    );
    return { ...run, trigger, id: Number(row?.id), createdAt };
  }

  async progress(session: string): Promise<ProgressRecord> {
    const [lessons, passed] = await Promise.all([
      this.#rows('SELECT lesson FROM lesson_reads WHERE session = $1 ORDER BY read_at', [session]),
      this.#rows("SELECT DISTINCT exercise FROM check_runs WHERE session = $1 AND status = 'pass' ORDER BY exercise", [
        session,
      ]),
    ]);
    return {
      lessonsRead: lessons.map((r) => String(r.lesson)),
      exercisesPassed: passed.map((r) => String(r.exercise)),
    };
  }

  async checkHistory(session: string, exercise?: string, limit = 20): Promise<CheckRunRecord[]> {
    const rows = exercise
      ? await this.#rows('SELECT * FROM check_runs WHERE session = $1 AND exercise = $2 ORDER BY id DESC LIMIT $3', [
          session,
          exercise,
          limit,
        ])
      : await this.#rows('SELECT * FROM check_runs WHERE session = $1 ORDER BY id DESC LIMIT $2', [session, limit]);
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
    await this.#pool.query(
      `INSERT INTO workshops (id, name, code, token_hash, capacity, exercises, created_at, ends_at, ended_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [...workshopValues(w)],
    );
  }

  async workshop(id: string): Promise<WorkshopRecord | undefined> {
    const row = await this.#row('SELECT * FROM workshops WHERE id = $1', [id]);
    return row ? toWorkshop(row) : undefined;
  }

  async workshopByCode(code: string): Promise<WorkshopRecord | undefined> {
    const row = await this.#row('SELECT * FROM workshops WHERE code = $1', [code]);
    return row ? toWorkshop(row) : undefined;
  }

  async workshops(): Promise<Array<WorkshopRecord & { learners: number }>> {
    const rows = await this.#rows(
      `SELECT w.*, (SELECT COUNT(*) FROM workshop_learners l WHERE l.workshop = w.id) AS learners
       FROM workshops w ORDER BY w.created_at DESC`,
    );
    return rows.map((r) => ({ ...toWorkshop(r), learners: Number(r.learners) }));
  }

  async updateWorkshop(id: string, change: { endsAt?: string; endedAt?: string }): Promise<void> {
    if (change.endsAt) await this.#pool.query('UPDATE workshops SET ends_at = $1 WHERE id = $2', [change.endsAt, id]);
    if (change.endedAt) {
      await this.#pool.query('UPDATE workshops SET ended_at = $1 WHERE id = $2', [change.endedAt, id]);
    }
  }

  async joinWorkshop(learner: Omit<LearnerRecord, 'until' | 'sandbox'>, capacity: number): Promise<JoinResult> {
    return this.#inTransaction(async (db) => {
      // Locking the workshop's row queues joins to it (across replicas too): the count below cannot go stale.
      await db.query('SELECT id FROM workshops WHERE id = $1 FOR UPDATE', [learner.workshop]);
      const existing = await db.query('SELECT * FROM workshop_learners WHERE workshop = $1 AND session = $2', [
        learner.workshop,
        learner.session,
      ]);
      if (existing.rows[0]) return { learner: toLearner(existing.rows[0]), joined: false };
      const count = await db.query('SELECT COUNT(*) AS n FROM workshop_learners WHERE workshop = $1', [
        learner.workshop,
      ]);
      if (Number(count.rows[0]?.n) >= capacity) return 'full';
      await db.query(
        'INSERT INTO workshop_learners (id, workshop, session, name, joined_at) VALUES ($1, $2, $3, $4, $5)',
        [learner.id, learner.workshop, learner.session, learner.name, learner.joinedAt],
      );
      return { learner: { ...learner }, joined: true };
    });
  }

  async learners(workshop: string): Promise<LearnerRecord[]> {
    const rows = await this.#rows('SELECT * FROM workshop_learners WHERE workshop = $1 ORDER BY joined_at, seq', [
      workshop,
    ]);
    return rows.map(toLearner);
  }

  async learner(workshop: string, id: string): Promise<LearnerRecord | undefined> {
    const row = await this.#row('SELECT * FROM workshop_learners WHERE workshop = $1 AND id = $2', [workshop, id]);
    return row ? toLearner(row) : undefined;
  }

  async memberships(session: string): Promise<Array<{ learner: LearnerRecord; workshop: WorkshopRecord }>> {
    const rows = await this.#rows(
      `SELECT l.id AS l_id, l.workshop, l.session, l.name AS l_name, l.joined_at, l.until, l.sandbox, w.*
       FROM workshop_learners l JOIN workshops w ON w.id = l.workshop
       WHERE l.session = $1 ORDER BY l.joined_at DESC`,
      [session],
    );
    return rows.map((r) => ({ learner: toLearner({ ...r, id: r.l_id, name: r.l_name }), workshop: toWorkshop(r) }));
  }

  async updateLearner(id: string, change: { sandbox?: string; until?: string }): Promise<void> {
    if (change.sandbox) {
      await this.#pool.query('UPDATE workshop_learners SET sandbox = $1 WHERE id = $2', [change.sandbox, id]);
    }
    if (change.until) {
      await this.#pool.query('UPDATE workshop_learners SET until = $1 WHERE id = $2', [change.until, id]);
    }
  }

  async workshopTallies(workshop: string): Promise<TallyRecord[]> {
    const rows = await this.#rows(
      `SELECT t.learner, t.exercise, t.attempts, t.first_pass_at, r.status AS last, r.report AS last_report
       FROM (
         SELECT l.id AS learner, c.exercise, MAX(c.id) AS last_id,
                COUNT(CASE WHEN c.triggered_by = 'manual' THEN 1 END) AS attempts,
                MIN(CASE WHEN c.status = 'pass' THEN c.created_at END) AS first_pass_at
         FROM workshop_learners l
         JOIN workshops w ON w.id = l.workshop
         JOIN check_runs c ON c.session = l.session AND c.created_at >= l.joined_at
                          AND (w.ended_at IS NULL OR c.created_at <= w.ended_at)
         WHERE l.workshop = $1
         GROUP BY l.id, c.exercise
       ) t JOIN check_runs r ON r.id = t.last_id`,
      [workshop],
    );
    return rows.map((r) => {
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

  async createResumeCode(session: string, codeHash: string): Promise<string> {
    const now = new Date().toISOString();
    await this.#inTransaction(async (db) => {
      // One code-maker per session at a time, or two racing requests could each leave a live code.
      await db.query("SELECT pg_advisory_xact_lock(hashtext('resume:' || $1))", [session]);
      await this.#revoke(db, session);
      await db.query('INSERT INTO resume_codes (code_hash, session, created_at) VALUES ($1, $2, $3)', [
        codeHash,
        session,
        now,
      ]);
    });
    return now;
  }

  async resumeSession(codeHash: string): Promise<string | undefined> {
    const row = await this.#row('SELECT session FROM resume_codes WHERE code_hash = $1 AND revoked_at IS NULL', [
      codeHash,
    ]);
    return optional(row?.session);
  }

  async resumeCodeCreatedAt(session: string): Promise<string | undefined> {
    const row = await this.#row('SELECT created_at FROM resume_codes WHERE session = $1 AND revoked_at IS NULL', [
      session,
    ]);
    return optional(row?.created_at);
  }

  async revokeResumeCodes(session: string): Promise<boolean> {
    return this.#revoke(this.#pool, session);
  }

  async #revoke(db: Queryable, session: string): Promise<boolean> {
    const result = await db.query('UPDATE resume_codes SET revoked_at = $1 WHERE session = $2 AND revoked_at IS NULL', [
      new Date().toISOString(),
      session,
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async accountSession(issuer: string, subject: string, session: string, name?: string): Promise<string> {
    await this.#pool.query(
      `INSERT INTO accounts (issuer, subject, session, name, linked_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [issuer, subject, session, name ?? null, new Date().toISOString()],
    );
    const row = await this.#row('SELECT session FROM accounts WHERE issuer = $1 AND subject = $2', [issuer, subject]);
    return String(row?.session);
  }

  async accountOf(session: string): Promise<{ issuer: string; name: string } | undefined> {
    const row = await this.#row('SELECT issuer, subject, name FROM accounts WHERE session = $1', [session]);
    return row ? { issuer: String(row.issuer), name: optional(row.name) ?? String(row.subject) } : undefined;
  }

  async putSave(save: SaveRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO saves (owner, created_at, expires_at, reason, files, manifests, size, mac, restored_into)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (owner) DO UPDATE SET
         created_at = excluded.created_at, expires_at = excluded.expires_at, reason = excluded.reason,
         files = excluded.files, manifests = excluded.manifests, size = excluded.size, mac = excluded.mac,
         restored_into = excluded.restored_into`,
      [...saveValues(save)],
    );
  }

  async save(owner: string, now = new Date()): Promise<SaveRecord | undefined> {
    const row = await this.#row('SELECT * FROM saves WHERE owner = $1 AND expires_at > $2', [owner, now.toISOString()]);
    return row ? toSave(row) : undefined;
  }

  async markSaveRestored(owner: string, sandbox: string): Promise<void> {
    await this.#pool.query('UPDATE saves SET restored_into = $1 WHERE owner = $2', [sandbox, owner]);
  }

  async deleteSave(owner: string): Promise<boolean> {
    return (await this.#count('DELETE FROM saves WHERE owner = $1', [owner])) > 0;
  }

  async purgeSaves(now = new Date()): Promise<number> {
    return this.#count('DELETE FROM saves WHERE expires_at <= $1', [now.toISOString()]);
  }

  async countHit(hit: RateLimitHit): Promise<RateLimitCount> {
    // One statement: upserts of the same key queue on its row, so hits counted at once by replicas are all kept.
    const row = await this.#row(countHitSql(['$1', '$2', '$3', '$4']), [...rateLimitHitValues(hit)]);
    return toRateLimitCount(row ?? {});
  }

  async uncountHit(limiter: string, key: string): Promise<void> {
    await this.#pool.query(
      'UPDATE rate_limit_hits SET hits = hits - 1 WHERE limiter = $1 AND client_key = $2 AND hits > 0',
      [limiter, key],
    );
  }

  async hits(limiter: string, key: string, now = new Date()): Promise<RateLimitCount | undefined> {
    const row = await this.#row(
      'SELECT hits, window_end FROM rate_limit_hits WHERE limiter = $1 AND client_key = $2 AND window_end > $3',
      [limiter, key, now.toISOString()],
    );
    return row ? toRateLimitCount(row) : undefined;
  }

  async resetHits(limiter: string, key: string): Promise<void> {
    await this.#pool.query('DELETE FROM rate_limit_hits WHERE limiter = $1 AND client_key = $2', [limiter, key]);
  }

  async purgeRateLimits(now = new Date()): Promise<number> {
    return this.#count('DELETE FROM rate_limit_hits WHERE window_end <= $1', [now.toISOString()]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#pool.end();
  }
}
