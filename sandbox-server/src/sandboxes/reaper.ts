// The reaper: deletes expired sandboxes, found by our label, on a timer and once at start-up; reports stuck deletions.
import type { V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { managedSelector, NAMESPACE_PREFIX } from '../cluster/labels.ts';
import { type ReapReason, reapReason } from './lifetime.ts';
import type { Sandbox, Sandboxes } from './sandboxes.ts';

export { ABANDONED_PROVISIONING_MS } from './lifetime.ts';

/** A sandbox namespace whose deletion has not finished long after it began. */
export interface StuckNamespace {
  namespace: string;
  deletingSince: Date;
  /** The namespace controller's own account of what blocks it (NamespaceContentRemaining, …), True ones only. */
  conditions: Array<{ type: string; reason?: string; message?: string }>;
}

export interface ReaperOptions {
  /** A namespace still Terminating this long after its deletion began counts as stuck. Default 10 minutes. */
  stuckAfterMs?: number;
  /** Called after every sweep with the namespaces stuck now (for the metric). */
  onStuck?: (stuck: StuckNamespace[]) => void;
  /** Called once per sandbox the reaper deletes, with why (for the metric). */
  onDecision?: (reason: ReapReason) => void;
  /** Runs before a learner's sandbox is deleted (saving their work); a failure is logged and the deletion goes on. */
  beforeDelete?: (sandbox: Sandbox, reason: ReapReason) => Promise<unknown>;
}

/** How long the reaper waits for beforeDelete on one sandbox. */
const BEFORE_DELETE_MS = 90_000;

export const STUCK_AFTER_MS = 10 * 60_000;

export function stuckNamespaces(namespaces: V1Namespace[], now: Date, stuckAfterMs: number): StuckNamespace[] {
  return namespaces.flatMap((ns) => {
    const name = ns.metadata?.name ?? '';
    const since = ns.metadata?.deletionTimestamp;
    if (!name.startsWith(NAMESPACE_PREFIX) || !since) return [];
    const deletingSince = new Date(since);
    if (now.getTime() - deletingSince.getTime() < stuckAfterMs) return [];
    const conditions = (ns.status?.conditions ?? [])
      .filter((c) => c.status === 'True')
      .map((c) => ({ type: c.type, reason: c.reason, message: c.message }));
    return [{ namespace: name, deletingSince, conditions }];
  });
}

export class Reaper {
  #timer?: NodeJS.Timeout;

  readonly sandboxes: Sandboxes;
  readonly log: Logger;
  readonly onReaped: (count: number) => void;
  readonly stuckAfterMs: number;
  readonly onStuck: (stuck: StuckNamespace[]) => void;
  readonly onDecision: (reason: ReapReason) => void;
  readonly beforeDelete: ReaperOptions['beforeDelete'];
  /** Sandboxes being saved and deleted now: a slow save is not started twice by the next sweep. */
  readonly #inFlight = new Set<string>();

  constructor(
    sandboxes: Sandboxes,
    log: Logger,
    onReaped: (count: number) => void = () => undefined,
    options: ReaperOptions = {},
  ) {
    this.sandboxes = sandboxes;
    this.log = log;
    this.onReaped = onReaped;
    this.stuckAfterMs = options.stuckAfterMs ?? STUCK_AFTER_MS;
    this.onStuck = options.onStuck ?? (() => undefined);
    this.onDecision = options.onDecision ?? (() => undefined);
    this.beforeDelete = options.beforeDelete;
  }

  /** Saves a learner's work (when asked to) and deletes the sandbox. */
  async #reap(sandbox: Sandbox, reason: ReapReason): Promise<void> {
    // Only this server's own learners: another server on the cluster keeps its learners' saves in its own database.
    const ours = sandbox.instance === this.sandboxes.settings.instance;
    if (sandbox.owner && ours && this.beforeDelete && sandbox.status !== 'deleting') {
      // While it saves, the namespace says it lives a little longer, so another server's reaper on the same cluster
      // does not delete it under the save; never past its maximum, which holds whatever happens.
      const hold = new Date(Date.now() + BEFORE_DELETE_MS);
      if (!sandbox.endsBy || hold.getTime() <= sandbox.endsBy.getTime()) {
        await this.sandboxes
          .assign(sandbox, { expiresAt: hold })
          .catch((error: unknown) => this.log.warn({ err: error, sandbox: sandbox.id }, 'could not hold the sandbox'));
      }
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), BEFORE_DELETE_MS);
      });
      await Promise.race([this.beforeDelete(sandbox, reason), limit])
        .catch((error: unknown) => this.log.warn({ err: error, sandbox: sandbox.id }, 'could not save before reaping'))
        .finally(() => clearTimeout(timer));
    }
    await this.sandboxes.delete(sandbox.id);
  }

  start(intervalMs = 30_000): void {
    clearInterval(this.#timer);
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Deletes every sandbox whose time is up (idle too long, past its maximum lifetime, its workshop over, an unclaimed
   * pool sandbox past its day, an abandoned half-built one) and returns their ids; each deletion is logged and counted
   * with its reason. Only namespaces that carry our managed label and our name prefix are considered (list() selects
   * by label), and one that is already Terminating is skipped, never waited on, so a namespace stuck in deletion
   * cannot block the rest.
   */
  async sweep(now = new Date()): Promise<string[]> {
    let reaped: string[] = [];
    try {
      const all = await this.sandboxes.list();
      const expired = all.flatMap((s) => {
        const reason = reapReason(s, now);
        return reason && !this.#inFlight.has(s.id) ? [{ sandbox: s, reason }] : [];
      });
      for (const { sandbox } of expired) this.#inFlight.add(sandbox.id);
      await Promise.all(
        expired.map(({ sandbox, reason }) =>
          this.#reap(sandbox, reason).finally(() => this.#inFlight.delete(sandbox.id)),
        ),
      );
      for (const { sandbox, reason } of expired) {
        this.log.info(
          {
            sandbox: sandbox.id,
            reason,
            expiresAt: sandbox.expiresAt.toISOString(),
            endsBy: sandbox.endsBy?.toISOString(),
          },
          `reaped sandbox ${sandbox.id}: ${reason}`,
        );
        this.onDecision(reason);
      }
      if (expired.length) this.onReaped(expired.length);
      reaped = expired.map(({ sandbox }) => sandbox.id);
    } catch (error) {
      this.log.warn({ err: error }, 'reaper sweep failed; will retry');
    }
    await this.reportStuck(now);
    return reaped;
  }

  /**
   * Names every sandbox namespace stuck in Terminating, with the conditions that say why, on every sweep until it is
   * gone. It never removes a finalizer: whatever holds the namespace belongs to someone else (a controller, an
   * APIService, an operator), and the namespace controller keeps retrying by itself once that is fixed.
   */
  async reportStuck(now = new Date()): Promise<StuckNamespace[]> {
    try {
      const list = await this.sandboxes.kube.core.listNamespace({ labelSelector: managedSelector });
      const stuck = stuckNamespaces(list.items, now, this.stuckAfterMs);
      for (const s of stuck) {
        const minutes = Math.round((now.getTime() - s.deletingSince.getTime()) / 60_000);
        this.log.warn(
          { namespace: s.namespace, deletingSince: s.deletingSince.toISOString(), conditions: s.conditions },
          `namespace ${s.namespace} has been Terminating for ${minutes} min; ` +
            (s.conditions.map((c) => `${c.type}: ${c.message ?? c.reason ?? ''}`).join('; ') || 'no condition yet'),
        );
      }
      this.onStuck(stuck);
      return stuck;
    } catch (error) {
      this.log.warn({ err: error }, 'could not list namespaces to find stuck deletions; will retry');
      return [];
    }
  }
}
