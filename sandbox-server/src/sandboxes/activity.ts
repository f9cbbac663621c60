// Learner activity (terminal input, API calls, Checks) pushes a sandbox's expiry out, written to the cluster at most
// once per interval per sandbox: a keystroke costs a map lookup, not an API-server write.
import type { Logger } from 'pino';

/** Writes the expiry that activity at `at` earns; resolves to the new expiry when it moved (see Sandboxes.recordActivity). */
export type ActivityWriter = (sandboxId: string, at: Date) => Promise<Date | undefined>;

interface Pending {
  /** When the last write started (ms). */
  lastWrite: number;
  /** The latest activity not yet written. */
  latest?: Date;
  timer?: NodeJS.Timeout;
  writing?: Promise<void>;
}

/**
 * How often a sandbox's activity is written at most: a tenth of the idle period, between 1 s and 60 s. The expiry
 * then lags the learner's last activity by at most this much.
 */
export function activityInterval(idleMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.round(idleMs / 10)));
}

/**
 * Leading and trailing throttle per sandbox: the first activity after a quiet interval is written at once (the
 * expiry moves as soon as the learner comes back), later ones within the interval are folded into one write at its
 * end, with the time of the latest.
 */
export class ActivityRecorder {
  readonly #pending = new Map<string, Pending>();
  readonly #write: ActivityWriter;
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #onWrite: (moved: boolean) => void;
  #stopped = false;

  constructor(write: ActivityWriter, intervalMs: number, log: Logger, onWrite: (moved: boolean) => void = () => {}) {
    this.#write = write;
    this.#intervalMs = intervalMs;
    this.#log = log;
    this.#onWrite = onWrite;
  }

  /** Notes activity in a sandbox now. Cheap and synchronous; the write happens in the background. */
  touch(sandboxId: string, at = new Date()): void {
    if (this.#stopped) return;
    let entry = this.#pending.get(sandboxId);
    if (!entry) {
      entry = { lastWrite: 0 };
      this.#pending.set(sandboxId, entry);
    }
    entry.latest = at;
    if (entry.timer || entry.writing) return;
    const wait = entry.lastWrite + this.#intervalMs - Date.now();
    if (wait <= 0) this.#flush(sandboxId, entry);
    else this.#schedule(sandboxId, entry, wait);
  }

  #schedule(sandboxId: string, entry: Pending, wait: number): void {
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.#flush(sandboxId, entry);
    }, wait);
    entry.timer.unref();
  }

  #flush(sandboxId: string, entry: Pending): void {
    const at = entry.latest;
    if (!at || this.#stopped) {
      // Nothing new since the last write: forget the sandbox, so the map holds only those with recent activity.
      if (!entry.writing) this.#pending.delete(sandboxId);
      return;
    }
    entry.latest = undefined;
    entry.lastWrite = Date.now();
    entry.writing = this.#write(sandboxId, at)
      .then((moved) => this.#onWrite(moved !== undefined))
      .catch((error: unknown) =>
        this.#log.warn({ err: error, sandbox: sandboxId }, 'could not record activity; the next activity retries'),
      )
      .finally(() => {
        entry.writing = undefined;
        // Whatever came in meanwhile is written one interval after this write began; with nothing new, forgotten.
        this.#schedule(sandboxId, entry, Math.max(0, entry.lastWrite + this.#intervalMs - Date.now()));
      });
  }

  /** Writes whatever is pending now (on shutdown, and in tests). */
  async flushAll(): Promise<void> {
    for (const [id, entry] of this.#pending) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      await entry.writing;
      if (entry.latest) {
        this.#flush(id, entry);
        await entry.writing;
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const entry of this.#pending.values()) clearTimeout(entry.timer);
    this.#pending.clear();
  }
}
