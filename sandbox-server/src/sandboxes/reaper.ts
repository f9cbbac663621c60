// The reaper: deletes expired sandboxes, found by our label, on a timer and once at start-up.
import type { Logger } from 'pino';
import { NAMESPACE_PREFIX } from '../cluster/labels.ts';
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

export class Reaper {
  #timer?: NodeJS.Timeout;

  readonly sandboxes: Sandboxes;
  readonly log: Logger;
  readonly onReaped: (count: number) => void;

  constructor(sandboxes: Sandboxes, log: Logger, onReaped: (count: number) => void = () => undefined) {
    this.sandboxes = sandboxes;
    this.log = log;
    this.onReaped = onReaped;
  }

  start(intervalMs = 30_000): void {
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
    try {
      const all = await this.sandboxes.list();
      const expired = all.filter((s) => isReapable(s, now));
      await Promise.all(expired.map((s) => this.sandboxes.delete(s.id)));
      if (expired.length) {
        this.log.info({ sandboxes: expired.map((s) => s.id) }, 'reaped expired sandboxes');
        this.onReaped(expired.length);
      }
      return expired.map((s) => s.id);
    } catch (error) {
      this.log.warn({ err: error }, 'reaper sweep failed; will retry');
      return [];
    }
  }
}
