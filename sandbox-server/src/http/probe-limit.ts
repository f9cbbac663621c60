// Guessing sandbox ids: lookups that find nothing (or someone else's sandbox) are budgeted per session and per address.
import { MemoryStore } from 'hono-rate-limiter';

export interface ProbeBudget {
  /** Misses one session may have per window… */
  perSession: number;
  sessionWindowMs: number;
  /** …and one address (a fresh cookie per guess gets a fresh session, not a fresh address). */
  perAddress: number;
  addressWindowMs: number;
}

/**
 * A learner misses only when a sandbox expired under an open page, so the budgets are far above normal use, yet an
 * enumeration of 64-bit ids gets 300 guesses per 10 minutes from one address, and the API server sees no more.
 */
export const DEFAULT_PROBE_BUDGET: ProbeBudget = {
  perSession: 20,
  sessionWindowMs: 60_000,
  perAddress: 300,
  addressWindowMs: 10 * 60_000,
};

type StoreOptions = Parameters<MemoryStore['init']>[0];

/** Counts misses in fixed windows (hono-rate-limiter's store); lookups stop once either budget is spent. */
export class ProbeLimiter {
  readonly #sessions = new MemoryStore();
  readonly #addresses = new MemoryStore();
  readonly #budget: ProbeBudget;
  constructor(budget: ProbeBudget = DEFAULT_PROBE_BUDGET) {
    this.#budget = budget;
    this.#sessions.init({ windowMs: budget.sessionWindowMs } as StoreOptions);
    this.#addresses.init({ windowMs: budget.addressWindowMs } as StoreOptions);
  }

  /** Whole seconds until lookups may resume when a budget is spent; undefined while they may go ahead. */
  retryAfter(session: string, address: string): number | undefined {
    const now = Date.now();
    let wait = 0;
    for (const [store, key, limit] of [
      [this.#sessions, session, this.#budget.perSession],
      [this.#addresses, address, this.#budget.perAddress],
    ] as const) {
      const info = store.get(key);
      const reset = info?.resetTime?.getTime() ?? 0;
      if (info && info.totalHits >= limit && reset > now) wait = Math.max(wait, Math.ceil((reset - now) / 1000));
    }
    return wait > 0 ? wait : undefined;
  }

  /** Records a lookup that found no sandbox of the caller's. */
  miss(session: string, address: string): void {
    this.#sessions.increment(session);
    this.#addresses.increment(address);
  }

  /** Stops the stores' clean-up timers. */
  close(): void {
    this.#sessions.shutdown();
    this.#addresses.shutdown();
  }
}
