// The reaper: deletes expired sandboxes, found by our label, on a timer and once at start-up; reports stuck deletions.
import type { V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { managedSelector, NAMESPACE_PREFIX } from '../cluster/labels.ts';
import type { Sandbox, Sandboxes } from './sandboxes.ts';

/** A pool sandbox still "provisioning" after this long was abandoned (its server died while building it). */
export const ABANDONED_PROVISIONING_MS = 10 * 60_000;

/** Whether the reaper should delete this sandbox now: it expired, or its build was abandoned. */
export function isReapable(s: Sandbox, now: Date): boolean {
  if (!s.namespace.startsWith(NAMESPACE_PREFIX) || s.status === 'deleting') return false;
  if (s.expiresAt.getTime() <= now.getTime()) return true;
  return (
    s.pool === 'provisioning' && !!s.createdAt && now.getTime() - s.createdAt.getTime() > ABANDONED_PROVISIONING_MS
  );
}

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
}

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
   * Deletes every expired (or abandoned half-built) sandbox and returns their ids. Only namespaces that carry our managed label and our name
   * prefix are considered (list() selects by label), and one that is already Terminating is skipped, never waited
   * on, so a namespace stuck in deletion cannot block the rest.
   */
  async sweep(now = new Date()): Promise<string[]> {
    let reaped: string[] = [];
    try {
      const all = await this.sandboxes.list();
      const expired = all.filter((s) => isReapable(s, now));
      await Promise.all(expired.map((s) => this.sandboxes.delete(s.id)));
      if (expired.length) {
        this.log.info({ sandboxes: expired.map((s) => s.id) }, 'reaped expired sandboxes');
        this.onReaped(expired.length);
      }
      reaped = expired.map((s) => s.id);
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
