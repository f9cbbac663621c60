// Workshops: creation, joining within capacity, the instructor's live grid, extend/reset/end, and the results export.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { exerciseIds, getExercise } from '../../../exercises/registry.ts';
import { LABELS, managedSelector } from '../cluster/labels.ts';
import type { LearnerWorkshopView, ResultRow, WorkshopState, WorkshopStatus } from '../protocol/workshop-state.ts';
import {
  ownerHash,
  type Sandbox,
  type SandboxClaimOptions,
  SandboxError,
  type Sandboxes,
} from '../sandboxes/sandboxes.ts';
import type { LearnerRecord, Repository, WorkshopRecord } from '../store/repository.ts';
import { cellsFor, distinctNames, resultRows } from './results.ts';
import {
  formatJoinCode,
  hashToken,
  newInstructorToken,
  newJoinCode,
  normalizeJoinCode,
  tokenMatches,
} from './secrets.ts';
import { mostStuck } from './stuck.ts';

export class WorkshopError extends Error {
  override name = 'WorkshopError';
  readonly code: 'workshop_full' | 'workshop_ended' | 'not_found' | 'conflict' | 'bad_request';
  constructor(code: WorkshopError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** The part of Sandboxes a workshop uses (tests may stand in for it). */
export type SandboxPort = Pick<
  Sandboxes,
  'findByOwner' | 'claimWarm' | 'provision' | 'assign' | 'list' | 'delete' | 'get'
>;

export interface WorkshopSettings {
  /** Longest a workshop may run, extensions included, counted from its creation (SIDECAR_LAB_MAX_TTL_MINUTES). */
  maxMinutes: number;
  /** Live sandboxes at most across the server (SIDECAR_LAB_MAX_SANDBOXES); a workshop cannot go past it either. */
  maxSandboxes: number;
}

export interface NewWorkshop {
  name: string;
  capacity: number;
  durationMinutes: number;
  exercises?: string[] | undefined;
}

const ID = /^[0-9a-f]{16}$/;
const newId = () => randomBytes(8).toString('hex');
const later = (a: string, b: string | undefined) => (b && Date.parse(b) > Date.parse(a) ? b : a);

/** When a learner's sandbox goes: the workshop's end, or their own later deadline after a personal extension. */
export const deadlineOf = (w: WorkshopRecord, l: Pick<LearnerRecord, 'until'>) => later(w.endsAt, l.until);

export function statusOf(w: Pick<WorkshopRecord, 'endsAt' | 'endedAt'>, now = Date.now()): WorkshopStatus {
  if (w.endedAt) return 'ended';
  return Date.parse(w.endsAt) <= now ? 'over' : 'running';
}

/** Whether joining (or, for a learner who joined, coming back) is still possible. */
export function isOpenFor(w: WorkshopRecord, member: LearnerRecord | undefined, now = Date.now()): boolean {
  if (member) return !w.endedAt && Date.parse(deadlineOf(w, member)) > now;
  return statusOf(w, now) === 'running';
}

export class WorkshopService {
  /**
   * Per-workshop "something changed" signals for the dashboards' event streams. They travel through the store, so a
   * change made through another replica on the same PostgreSQL database reaches this one's dashboards too.
   */
  readonly #events = new EventEmitter().setMaxListeners(0);
  /** One join at a time per learner: a double-click must not provision two sandboxes. */
  readonly #joining = new Map<string, Promise<unknown>>();
  /** Per workshop, sandboxes already seen ready, so the grid does not read every toolbox Pod on every update. */
  readonly #ready = new Map<string, Set<string>>();

  readonly repo: Repository;
  readonly sandboxes: SandboxPort | undefined;
  readonly settings: WorkshopSettings;
  readonly log: Logger;

  /** `sandboxes` may be left out where no cluster is needed (the CLI's create, list and export). */
  constructor(repo: Repository, sandboxes: SandboxPort | undefined, settings: WorkshopSettings, log: Logger) {
    this.repo = repo;
    this.sandboxes = sandboxes;
    this.settings = settings;
    this.log = log;
    repo.onWorkshopChange((id) => this.#events.emit(id));
  }

  /** Creates a workshop; the token is returned here once and only its hash is kept. */
  async create(input: NewWorkshop, now = new Date()): Promise<{ workshop: WorkshopRecord; token: string }> {
    const exercises = input.exercises?.length ? [...new Set(input.exercises)] : [...exerciseIds];
    const unknown = exercises.filter((id) => !getExercise(id));
    if (unknown.length) {
      throw new WorkshopError('bad_request', `no exercise ${unknown.join(', ')} (known: ${exerciseIds.join(', ')})`);
    }
    if (input.durationMinutes > this.settings.maxMinutes) {
      throw new WorkshopError(
        'bad_request',
        `a workshop may run at most ${this.settings.maxMinutes} minutes (SIDECAR_LAB_MAX_TTL_MINUTES)`,
      );
    }
    const token = newInstructorToken();
    const workshop: WorkshopRecord = {
      id: newId(),
      name: input.name,
      code: newJoinCode(),
      tokenHash: hashToken(token),
      capacity: input.capacity,
      exercises,
      createdAt: now.toISOString(),
      endsAt: new Date(now.getTime() + input.durationMinutes * 60_000).toISOString(),
    };
    await this.repo.createWorkshop(workshop);
    this.log.info({ workshop: workshop.id, capacity: workshop.capacity }, 'workshop created');
    return { workshop, token };
  }

  async get(id: string): Promise<WorkshopRecord | undefined> {
    return ID.test(id) ? this.repo.workshop(id) : undefined;
  }

  async byCode(input: string): Promise<WorkshopRecord | undefined> {
    const code = normalizeJoinCode(input);
    return code ? this.repo.workshopByCode(code) : undefined;
  }

  /** The workshop when `token` is its instructor token; a wrong token and an unknown id look the same. */
  async authorize(id: string, token: string | undefined): Promise<WorkshopRecord | undefined> {
    const workshop = await this.get(id);
    return tokenMatches(token, workshop?.tokenHash) ? workshop : undefined;
  }

  /** The session's learner row in this workshop, if it joined. */
  async memberOf(workshop: WorkshopRecord, session: string): Promise<LearnerRecord | undefined> {
    return (await this.repo.memberships(session)).find((m) => m.workshop.id === workshop.id)?.learner;
  }

  async isFull(workshop: WorkshopRecord): Promise<boolean> {
    return (await this.repo.learners(workshop.id)).length >= workshop.capacity;
  }

  /** Joins (or re-joins) the workshop with this code and makes sure the learner has a sandbox in it. */
  async join(
    code: string,
    session: string,
    name: string,
  ): Promise<{ workshop: WorkshopRecord; learner: LearnerRecord; sandbox: Sandbox; joined: boolean }> {
    const workshop = await this.byCode(code);
    if (!workshop)
      throw new WorkshopError('not_found', 'no workshop has this join code; check it with your instructor');
    const owner = ownerHash(session);
    const pending = this.#joining.get(owner);
    if (pending) await pending.catch(() => undefined);
    let release: () => void = () => undefined;
    this.#joining.set(owner, new Promise<void>((resolve) => (release = resolve)));
    try {
      return await this.#join(workshop, session, name);
    } finally {
      this.#joining.delete(owner);
      release();
    }
  }

  async #join(workshop: WorkshopRecord, session: string, name: string) {
    const now = new Date();
    const memberships = await this.repo.memberships(session);
    const other = memberships.find((m) => m.workshop.id !== workshop.id && statusOf(m.workshop) === 'running');
    if (other) {
      throw new WorkshopError(
        'conflict',
        `this browser already takes part in another workshop that is still running ("${other.workshop.name}")`,
      );
    }
    const member = memberships.find((m) => m.workshop.id === workshop.id)?.learner;
    if (!isOpenFor(workshop, member, now.getTime()))
      throw new WorkshopError('workshop_ended', 'this workshop has ended');
    const result = await this.repo.joinWorkshop(
      { id: newId(), workshop: workshop.id, session, name, joinedAt: now.toISOString() },
      workshop.capacity,
    );
    if (result === 'full') {
      throw new WorkshopError(
        'workshop_full',
        `this workshop is full: all ${workshop.capacity} places are taken; ask your instructor`,
      );
    }
    if (result.joined) {
      this.log.info({ workshop: workshop.id, learner: result.learner.id }, 'learner joined a workshop');
      this.#emit(workshop.id);
    }
    const sandbox = await this.#sandboxFor(workshop, result.learner);
    await this.repo.updateLearner(result.learner.id, { sandbox: sandbox.id });
    this.#emit(workshop.id);
    return { workshop, learner: result.learner, sandbox, joined: result.joined };
  }

  /** The learner's sandbox, moved into the workshop if they already had one, otherwise claimed or provisioned. */
  async #sandboxFor(workshop: WorkshopRecord, learner: LearnerRecord): Promise<Sandbox> {
    const sandboxes = this.#cluster();
    const owner = ownerHash(learner.session);
    const claim: SandboxClaimOptions = { workshop: workshop.id, expiresAt: new Date(deadlineOf(workshop, learner)) };
    let sandbox = await sandboxes.findByOwner(owner);
    if (sandbox?.status === 'expired') {
      // The reaper would delete it any moment; a fresh one is better than reviving a half-reaped namespace.
      await sandboxes.delete(sandbox.id);
      sandbox = undefined;
    }
    if (sandbox) {
      const moved = sandbox.workshop !== workshop.id || sandbox.expiresAt.getTime() !== claim.expiresAt!.getTime();
      return moved ? sandboxes.assign(sandbox, claim) : sandbox;
    }
    await this.#checkCapacity();
    return (await sandboxes.claimWarm(owner, claim)) ?? (await sandboxes.provision(owner, claim));
  }

  async #checkCapacity(): Promise<void> {
    const live = (await this.#cluster().list()).filter(
      (s) => s.owner && s.status !== 'deleting' && s.status !== 'expired',
    );
    if (live.length >= this.settings.maxSandboxes) {
      throw new SandboxError('capacity', 'all sandboxes are in use right now; try again in a few minutes');
    }
  }

  /**
   * What a new sandbox of this session should carry: its running workshop's label and end time. The plain sandbox
   * API uses it, so a workshop learner who ends and restarts their sandbox stays in the workshop.
   */
  async claimOptions(session: string, now = Date.now()): Promise<SandboxClaimOptions | undefined> {
    for (const { workshop, learner } of await this.repo.memberships(session)) {
      const deadline = deadlineOf(workshop, learner);
      if (!workshop.endedAt && Date.parse(deadline) > now) {
        return { workshop: workshop.id, expiresAt: new Date(deadline) };
      }
    }
    return undefined;
  }

  /** The learner's own view of their latest workshop: nothing about anyone else. */
  async learnerView(session: string): Promise<LearnerWorkshopView | undefined> {
    const [latest] = await this.repo.memberships(session);
    if (!latest) return undefined;
    const { workshop, learner } = latest;
    const sandbox = await this.sandboxes?.findByOwner(ownerHash(session));
    return {
      workshop: {
        name: workshop.name,
        status: statusOf(workshop),
        endsAt: workshop.endsAt,
        exercises: workshop.exercises,
      },
      learner: { name: learner.name, deadline: deadlineOf(workshop, learner) },
      ...(sandbox && sandbox.workshop === workshop.id
        ? {
            sandbox: {
              id: sandbox.id,
              namespace: sandbox.namespace,
              status: sandbox.status,
              expiresAt: sandbox.expiresAt.toISOString(),
            },
          }
        : {}),
    };
  }

  /** Everything the dashboard shows, read fresh: the database for people and progress, the cluster for sandboxes. */
  async state(id: string): Promise<WorkshopState> {
    const workshop = await this.repo.workshop(id);
    if (!workshop) throw new WorkshopError('not_found', 'no such workshop');
    const [learners, tallies] = await Promise.all([this.repo.learners(id), this.repo.workshopTallies(id)]);
    const names = distinctNames(learners);
    const sandboxes = await this.#sandboxesByOwner(workshop);
    const rows = learners.map((learner) => {
      const sandbox = sandboxes.get(ownerHash(learner.session));
      return {
        id: learner.id,
        name: names.get(learner.id) ?? learner.name,
        joinedAt: learner.joinedAt,
        deadline: deadlineOf(workshop, learner),
        sandbox: sandbox
          ? {
              id: sandbox.id,
              namespace: sandbox.namespace,
              status: sandbox.status,
              expiresAt: sandbox.expiresAt.toISOString(),
            }
          : null,
        cells: cellsFor(learner.id, workshop.exercises, tallies),
      };
    });
    const stuck = mostStuck(
      workshop.exercises.map((id) => ({ id, checks: getExercise(id)?.checks ?? [] })),
      learners,
      tallies,
    );
    return {
      id: workshop.id,
      name: workshop.name,
      code: formatJoinCode(workshop.code),
      status: statusOf(workshop),
      capacity: workshop.capacity,
      createdAt: workshop.createdAt,
      endsAt: workshop.endsAt,
      ...(workshop.endedAt ? { endedAt: workshop.endedAt } : {}),
      now: new Date().toISOString(),
      exercises: workshop.exercises.map((exercise) => ({
        id: exercise,
        title: getExercise(exercise)?.title ?? exercise,
        passed: rows.filter((r) => r.cells[exercise]?.passed).length,
        stuck: stuck[exercise] ?? null,
      })),
      learners: rows,
    };
  }

  /** The workshop's live sandboxes by owner, with the toolbox's readiness. */
  async #sandboxesByOwner(workshop: WorkshopRecord): Promise<Map<string, Sandbox>> {
    const sandboxes = this.#cluster();
    const list = await sandboxes.list(`${managedSelector},${LABELS.workshop}=${workshop.id}`);
    const known = this.#ready.get(workshop.id) ?? new Set<string>();
    const ready = new Set<string>();
    const withStatus = await Promise.all(
      list.map(async (sandbox) => {
        // list() cannot tell provisioning from ready without reading the toolbox Pod; remember ready ones.
        if (sandbox.status !== 'provisioning') return sandbox;
        if (known.has(sandbox.id)) {
          ready.add(sandbox.id);
          return { ...sandbox, status: 'ready' as const };
        }
        const fresh = (await sandboxes.get(sandbox.id)) ?? sandbox;
        if (fresh.status === 'ready') ready.add(sandbox.id);
        return fresh;
      }),
    );
    // Only this workshop's live, ready sandboxes are kept: deleted ones drop out here.
    if (ready.size) this.#ready.set(workshop.id, ready);
    else this.#ready.delete(workshop.id);
    const byOwner = new Map<string, Sandbox>();
    for (const sandbox of withStatus) {
      const seen = byOwner.get(sandbox.owner);
      // While a reset runs the old sandbox is deleting and the new one provisioning: show the new one.
      if (!seen || seen.status === 'deleting') byOwner.set(sandbox.owner, sandbox);
    }
    return byOwner;
  }

  /** One row per learner and exercise: what the CSV and JSON exports hold. */
  async results(workshop: WorkshopRecord): Promise<ResultRow[]> {
    const [learners, tallies] = await Promise.all([
      this.repo.learners(workshop.id),
      this.repo.workshopTallies(workshop.id),
    ]);
    return resultRows(learners, workshop.exercises, tallies);
  }

  /**
   * Gives everyone (or one learner) `minutes` more, never past the longest a workshop may run; their sandboxes'
   * expiry follows, so the reaper leaves them alone.
   */
  async extend(workshop: WorkshopRecord, minutes: number, learnerId?: string): Promise<void> {
    if (workshop.endedAt) throw new WorkshopError('workshop_ended', 'this workshop has ended; it cannot be extended');
    const limit = Date.parse(workshop.createdAt) + this.settings.maxMinutes * 60_000;
    const push = (from: string) => {
      if (Date.parse(from) >= limit) {
        throw new WorkshopError(
          'conflict',
          `a workshop runs at most ${this.settings.maxMinutes} minutes, and this one already does`,
        );
      }
      return new Date(Math.min(Math.max(Date.parse(from), Date.now()) + minutes * 60_000, limit)).toISOString();
    };
    if (learnerId) {
      const learner = await this.repo.learner(workshop.id, learnerId);
      if (!learner) throw new WorkshopError('not_found', 'no such learner in this workshop');
      await this.repo.updateLearner(learner.id, { until: push(deadlineOf(workshop, learner)) });
    } else {
      await this.repo.updateWorkshop(workshop.id, { endsAt: push(workshop.endsAt) });
    }
    await this.#applyDeadlines(workshop.id);
    this.log.info({ workshop: workshop.id, minutes, learner: learnerId ?? 'all' }, 'workshop extended');
    this.#emit(workshop.id);
  }

  /** Sets each workshop sandbox's expiry to its learner's deadline. */
  async #applyDeadlines(id: string): Promise<void> {
    const workshop = (await this.repo.workshop(id))!;
    const deadlines = new Map(
      (await this.repo.learners(id)).map((l) => [ownerHash(l.session), new Date(deadlineOf(workshop, l))] as const),
    );
    const sandboxes = this.#cluster();
    const list = await sandboxes.list(`${managedSelector},${LABELS.workshop}=${id}`);
    await Promise.all(
      list.map(async (sandbox) => {
        const expiresAt = deadlines.get(sandbox.owner);
        if (!expiresAt || sandbox.status === 'deleting' || sandbox.expiresAt.getTime() === expiresAt.getTime()) return;
        await sandboxes.assign(sandbox, { expiresAt });
      }),
    );
  }

  /** Replaces a learner's sandbox with a fresh namespace; their progress stays (it is kept by session). */
  async reset(workshop: WorkshopRecord, learnerId: string): Promise<Sandbox> {
    if (workshop.endedAt) throw new WorkshopError('workshop_ended', 'this workshop has ended');
    const learner = await this.repo.learner(workshop.id, learnerId);
    if (!learner) throw new WorkshopError('not_found', 'no such learner in this workshop');
    const deadline = deadlineOf(workshop, learner);
    if (Date.parse(deadline) <= Date.now()) {
      throw new WorkshopError('workshop_ended', "this learner's time is up; extend it first");
    }
    const sandboxes = this.#cluster();
    const owner = ownerHash(learner.session);
    const old = await sandboxes.list(`${managedSelector},${LABELS.owner}=${owner}`);
    await Promise.all(old.filter((s) => s.status !== 'deleting').map((s) => sandboxes.delete(s.id)));
    this.#emit(workshop.id);
    const claim = { workshop: workshop.id, expiresAt: new Date(deadline) };
    await this.#checkCapacity();
    const fresh = (await sandboxes.claimWarm(owner, claim)) ?? (await sandboxes.provision(owner, claim));
    await this.repo.updateLearner(learner.id, { sandbox: fresh.id });
    this.log.info({ workshop: workshop.id, learner: learner.id, sandbox: fresh.id }, 'workshop learner reset');
    this.#emit(workshop.id);
    return fresh;
  }

  /** Ends the workshop: every sandbox carrying its label is deleted; learners and progress stay for the export. */
  async end(workshop: WorkshopRecord): Promise<number> {
    if (!workshop.endedAt) await this.repo.updateWorkshop(workshop.id, { endedAt: new Date().toISOString() });
    const sandboxes = this.#cluster();
    const list = await sandboxes.list(`${managedSelector},${LABELS.workshop}=${workshop.id}`);
    const live = list.filter((s) => s.status !== 'deleting');
    await Promise.all(live.map((s) => sandboxes.delete(s.id)));
    this.log.info({ workshop: workshop.id, sandboxes: live.length }, 'workshop ended');
    this.#emit(workshop.id);
    return live.length;
  }

  /** Calls `listener` when the workshop changes (a join, a check, an action); returns an unsubscribe. */
  subscribe(id: string, listener: () => void): () => void {
    this.#events.on(id, listener);
    return () => this.#events.off(id, listener);
  }

  /** Called after any check is stored: the grids of the session's workshops need redrawing. */
  async noticeCheck(session: string): Promise<void> {
    try {
      for (const { workshop } of await this.repo.memberships(session)) if (!workshop.endedAt) this.#emit(workshop.id);
    } catch (error) {
      // The learner's verdict is stored already; a dashboard that misses this push catches up on its next refresh.
      this.log.warn({ err: error }, 'could not tell workshop dashboards about a check');
    }
  }

  #emit(id: string): void {
    this.repo.announceWorkshopChange(id).catch((error: unknown) => {
      // Local dashboards heard it already; other replicas' catch up on their next periodic refresh.
      this.log.warn({ err: error, workshop: id }, 'could not tell other replicas about a workshop change');
    });
  }

  #cluster(): SandboxPort {
    if (!this.sandboxes) throw new Error('this workshop operation needs the cluster');
    return this.sandboxes;
  }
}
