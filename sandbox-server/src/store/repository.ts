// What the server keeps (progress, check history, workshops, resume codes, accounts, saves) and the one interface
// both stores implement: SQLite (sqlite.ts, the embedded default) and PostgreSQL (postgres.ts, for several replicas).

/**
 * What started a check run: the learner pressing Check (or a script calling the API on purpose) is `manual` and is
 * an attempt; the site's live re-check after a namespace change is `auto` and is not.
 */
export type CheckTrigger = 'manual' | 'auto';

export interface CheckRunRecord {
  id: number;
  session: string;
  sandbox: string;
  exercise: string;
  status: 'pass' | 'fail' | 'error';
  /** The full report with evidence, as JSON. */
  report: string;
  trigger: CheckTrigger;
  createdAt: string;
}

export interface ProgressRecord {
  lessonsRead: string[];
  exercisesPassed: string[];
}

export interface WorkshopRecord {
  id: string;
  name: string;
  /** Normalised join code (no dashes). */
  code: string;
  /** SHA-256 of the instructor token; the token itself is never stored. */
  tokenHash: string;
  capacity: number;
  exercises: string[];
  createdAt: string;
  endsAt: string;
  /** Set when the instructor ended it. */
  endedAt?: string;
}

export interface LearnerRecord {
  id: string;
  workshop: string;
  /** The learner's session id: their check history is found through it. */
  session: string;
  name: string;
  joinedAt: string;
  /** A personal deadline past the workshop's end, after the instructor extended this learner alone. */
  until?: string;
  /** The sandbox the learner was last given. */
  sandbox?: string;
}

/** A learner's checks of one exercise during the workshop, aggregated. */
export interface TallyRecord {
  learner: string;
  exercise: string;
  /** Manual runs only: automatic re-checks are not attempts. */
  attempts: number;
  /** The first passing verdict, manual or automatic: a pass is a pass. */
  firstPassAt?: string;
  /** The latest verdict, manual or automatic (what the learner's screen shows). */
  last: 'pass' | 'fail' | 'error';
  /** That latest verdict's full report, as JSON. */
  lastReport: string;
}

/** A learner's saved work (see sandbox-server/src/saves/). */
export interface SaveRecord {
  owner: string;
  createdAt: string;
  /** Kept until then (SIDECAR_LAB_SAVE_RETENTION_DAYS). */
  expiresAt: string;
  /** What made it: "expired", "save-and-stop", … */
  reason: string;
  /** The home folder as a .tar.gz. */
  files: Buffer;
  /** The clean manifests, as a JSON array. */
  manifests: string;
  size: number;
  /** HMAC of the rest, with the server's secret. */
  mac: string;
  /** The sandbox it was last restored into. */
  restoredInto?: string;
}

export type Row = Record<string, unknown>;
export const optional = (value: unknown) => (value === null || value === undefined ? undefined : String(value));

export function toWorkshop(r: Row): WorkshopRecord {
  const endedAt = optional(r.ended_at);
  return {
    id: String(r.id),
    name: String(r.name),
    code: String(r.code),
    tokenHash: String(r.token_hash),
    capacity: Number(r.capacity),
    exercises: JSON.parse(String(r.exercises)) as string[],
    createdAt: String(r.created_at),
    endsAt: String(r.ends_at),
    ...(endedAt ? { endedAt } : {}),
  };
}

/** A workshop's columns in table order (id … ended_at), as both stores insert them; `toWorkshop` reads them back. */
export function workshopValues(w: WorkshopRecord) {
  return [
    w.id,
    w.name,
    w.code,
    w.tokenHash,
    w.capacity,
    JSON.stringify(w.exercises),
    w.createdAt,
    w.endsAt,
    w.endedAt ?? null,
  ] as const;
}

export function toLearner(r: Row): LearnerRecord {
  const until = optional(r.until);
  const sandbox = optional(r.sandbox);
  return {
    id: String(r.id),
    workshop: String(r.workshop),
    session: String(r.session),
    name: String(r.name),
    joinedAt: String(r.joined_at),
    ...(until ? { until } : {}),
    ...(sandbox ? { sandbox } : {}),
  };
}

export function toSave(r: Row): SaveRecord {
  const restoredInto = optional(r.restored_into);
  return {
    owner: String(r.owner),
    createdAt: String(r.created_at),
    expiresAt: String(r.expires_at),
    reason: String(r.reason),
    files: Buffer.from(r.files as Uint8Array),
    manifests: String(r.manifests),
    size: Number(r.size),
    mac: String(r.mac),
    ...(restoredInto ? { restoredInto } : {}),
  };
}

/** A save's columns in table order (owner … restored_into), as both stores insert them; `toSave` reads them back. */
export function saveValues(save: SaveRecord) {
  return [
    save.owner,
    save.createdAt,
    save.expiresAt,
    save.reason,
    save.files,
    save.manifests,
    save.size,
    save.mac,
    save.restoredInto ?? null,
  ] as const;
}

/**
 * A hit on one rate limit for one key (a session, an address). Each limiter has its own name, so two limits on the
 * same key count apart. A key's window starts at its first hit and lasts `windowMs`, as the library's in-memory store
 * counts; `now` is the caller's clock.
 */
export interface RateLimitHit {
  limiter: string;
  key: string;
  windowMs: number;
  now: Date;
}

/** A key's live window: its hits so far and when they stop counting. */
export interface RateLimitCount {
  hits: number;
  resetAt: Date;
}

/** The rate limits' hit counters, which every instance on the same database shares (so replicas share one budget). */
export interface RateLimitCounters {
  /**
   * Counts a hit in the key's window, or in a new one when its last window ended; returns the window after the hit.
   * One atomic statement, so hits counted at once (from any instance) are all kept.
   */
  countHit(hit: RateLimitHit): Promise<RateLimitCount>;
  /** Takes a hit back from the key's window (the request turned out not to count), never below zero. */
  uncountHit(limiter: string, key: string): Promise<void>;
  /** The key's window at `now`, unless it has none live. */
  hits(limiter: string, key: string, now?: Date): Promise<RateLimitCount | undefined>;
  /** Forgets the key's window in the named limiter. */
  resetHits(limiter: string, key: string): Promise<void>;
  /** Deletes windows that ended; returns how many. */
  purgeRateLimits(now?: Date): Promise<number>;
}

/** The window a counter row (`hits`, `window_end`) describes. */
export const toRateLimitCount = (r: Row): RateLimitCount => ({
  hits: Number(r.hits),
  resetAt: new Date(String(r.window_end)),
});

/**
 * The counting upsert both stores run, given their four placeholders for `rateLimitHitValues`: a window that ended
 * (its end is not after this hit) starts again at this hit. Every SET reads the row as it was before the update.
 */
export const countHitSql = (placeholders: readonly string[]) =>
  `INSERT INTO rate_limit_hits (limiter, client_key, window_start, window_end, hits)
   VALUES (${placeholders.join(', ')}, 1)
   ON CONFLICT (limiter, client_key) DO UPDATE SET
     hits = CASE WHEN rate_limit_hits.window_end <= excluded.window_start THEN 1 ELSE rate_limit_hits.hits + 1 END,
     window_start = CASE WHEN rate_limit_hits.window_end <= excluded.window_start
                         THEN excluded.window_start ELSE rate_limit_hits.window_start END,
     window_end = CASE WHEN rate_limit_hits.window_end <= excluded.window_start
                       THEN excluded.window_end ELSE rate_limit_hits.window_end END
   RETURNING hits, window_end`;

/** A hit's columns as both stores insert them (limiter, client_key, window_start, window_end). */
export function rateLimitHitValues(hit: RateLimitHit) {
  return [
    hit.limiter,
    hit.key,
    hit.now.toISOString(),
    new Date(hit.now.getTime() + hit.windowMs).toISOString(),
  ] as const;
}

/** A learner and whether this call added them (false: the session had joined before). */
export type JoinResult = { learner: LearnerRecord; joined: boolean } | 'full';

/**
 * The store, whichever database holds it. Every method is async so SQLite (synchronous underneath) and PostgreSQL
 * (a network round trip) fit the same callers; each method that writes more than one row is one transaction.
 */
export interface Repository extends RateLimitCounters {
  markLessonRead(session: string, lesson: string): Promise<void>;
  /** Stores a verdict; `trigger` defaults to manual, as every run was before automatic re-checks were told apart. */
  recordCheck(
    run: Omit<CheckRunRecord, 'id' | 'createdAt' | 'trigger'> & { trigger?: CheckTrigger },
  ): Promise<CheckRunRecord>;
  progress(session: string): Promise<ProgressRecord>;
  /** Newest first. */
  checkHistory(session: string, exercise?: string, limit?: number): Promise<CheckRunRecord[]>;

  createWorkshop(w: WorkshopRecord): Promise<void>;
  workshop(id: string): Promise<WorkshopRecord | undefined>;
  workshopByCode(code: string): Promise<WorkshopRecord | undefined>;
  /** Every workshop, newest first, with how many learners joined each. */
  workshops(): Promise<Array<WorkshopRecord & { learners: number }>>;
  updateWorkshop(id: string, change: { endsAt?: string; endedAt?: string }): Promise<void>;
  /**
   * Adds a learner unless the workshop is full; the same session joining again gets its existing row. One
   * transaction, so two learners racing for the last place cannot both get it.
   */
  joinWorkshop(learner: Omit<LearnerRecord, 'until' | 'sandbox'>, capacity: number): Promise<JoinResult>;
  /** The learners of a workshop in join order. */
  learners(workshop: string): Promise<LearnerRecord[]>;
  learner(workshop: string, id: string): Promise<LearnerRecord | undefined>;
  /** Where a session is a learner, newest workshop first. */
  memberships(session: string): Promise<Array<{ learner: LearnerRecord; workshop: WorkshopRecord }>>;
  updateLearner(id: string, change: { sandbox?: string; until?: string }): Promise<void>;
  /**
   * Each learner's checks per exercise, counted from when they joined until the workshop ended: what they did
   * on their own before or after does not count, and automatic re-checks are verdicts but not attempts.
   */
  workshopTallies(workshop: string): Promise<TallyRecord[]>;

  /** Stores a new resume code for `session`, revoking any earlier one; returns when it was made. */
  createResumeCode(session: string, codeHash: string): Promise<string>;
  /** The session a live code resumes, or undefined for an unknown or revoked one. */
  resumeSession(codeHash: string): Promise<string | undefined>;
  /** When the session's live code was made, if it has one. */
  resumeCodeCreatedAt(session: string): Promise<string | undefined>;
  /** Revokes the session's live code; returns whether there was one. */
  revokeResumeCodes(session: string): Promise<boolean>;

  /**
   * The session an account's progress lives in. The first sign-in binds the account to the session that signs in, so
   * what the learner did before signing in stays theirs; later sign-ins, on any device, return that session.
   */
  accountSession(issuer: string, subject: string, session: string, name?: string): Promise<string>;
  /** The account bound to a session, if any: its display name (or subject). */
  accountOf(session: string): Promise<{ issuer: string; name: string } | undefined>;

  /** Stores a learner's save, replacing their previous one. */
  putSave(save: SaveRecord): Promise<void>;
  /** A learner's save, unless its retention ended. */
  save(owner: string, now?: Date): Promise<SaveRecord | undefined>;
  markSaveRestored(owner: string, sandbox: string): Promise<void>;
  deleteSave(owner: string): Promise<boolean>;
  /** Deletes saves past their retention; returns how many. */
  purgeSaves(now?: Date): Promise<number>;

  /**
   * Says that a workshop changed (a join, a check, an instructor's action): this instance's listeners hear it at once,
   * and so do those of every other instance on the same database (another replica), where the store can reach them.
   */
  announceWorkshopChange(workshop: string): Promise<void>;
  /** Calls `listener` with each changed workshop's id, whichever instance announced it; returns an unsubscribe. */
  onWorkshopChange(listener: (workshop: string) => void): () => void;

  close(): Promise<void>;
}

/** The in-process half of the workshop change feed, which both stores share. */
export class LocalChanges {
  readonly #listeners = new Set<(workshop: string) => void>();

  emit(workshop: string): void {
    for (const listener of this.#listeners) listener(workshop);
  }

  on(listener: (workshop: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
