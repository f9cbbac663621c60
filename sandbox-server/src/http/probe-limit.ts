// Guessing sandbox ids: lookups that find nothing (or someone else's sandbox) are budgeted per session and per address.
import { type HonoConfigType, MemoryStore, type Store } from 'hono-rate-limiter';
import type { RateLimitCounters } from '../store/repository.ts';
import { SharedRateLimitStore } from './shared-rate-limit.ts';

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

/** One budget's counts, in the database under `name` when there are counters, else in this process. */
function missStore(counters: RateLimitCounters | undefined, name: string, windowMs: number): Store {
  const options = { windowMs } as StoreOptions;
  if (!counters) {
    const store = new MemoryStore();
    store.init(options);
    return store;
  }
  const store = new SharedRateLimitStore(counters, name);
  store.init(options as HonoConfigType);
  return store;
}

export interface ProbeLimiterOptions {
  /**
   * Where misses are counted: the server's database, so that replicas on one PostgreSQL spend one budget (an
   * enumeration spread over the replicas behind a load balancer gets no more guesses). Without it, this process's
   * memory.
   */
  counters?: RateLimitCounters;
  budget?: ProbeBudget;
}

/** Counts misses in fixed windows (hono-rate-limiter's stores); lookups stop once either budget is spent. */
export class ProbeLimiter {
  readonly #sessions: Store;
  readonly #addresses: Store;
  readonly #budget: ProbeBudget;
  constructor({ counters, budget = DEFAULT_PROBE_BUDGET }: ProbeLimiterOptions = {}) {
    this.#budget = budget;
    this.#sessions = missStore(counters, 'probe-session', budget.sessionWindowMs);
    this.#addresses = missStore(counters, 'probe-address', budget.addressWindowMs);
  }

  /** Whole seconds until lookups may resume when a budget is spent; undefined while they may go ahead. */
  async retryAfter(session: string, address: string): Promise<number | undefined> {
    const [perSession, perAddress] = await Promise.all([this.#sessions.get?.(session), this.#addresses.get?.(address)]);
    const now = Date.now();
    let wait = 0;
    for (const [info, limit] of [
      [perSession, this.#budget.perSession],
      [perAddress, this.#budget.perAddress],
    ] as const) {
      const reset = info?.resetTime?.getTime() ?? 0;
      if (info && info.totalHits >= limit && reset > now) wait = Math.max(wait, Math.ceil((reset - now) / 1000));
    }
    return wait > 0 ? wait : undefined;
  }

  /** Records a lookup that found no sandbox of the caller's. */
  async miss(session: string, address: string): Promise<void> {
    await Promise.all([this.#sessions.increment(session), this.#addresses.increment(address)]);
  }

  /** Stops the in-memory stores' clean-up timers (the database purges ended windows itself). */
  close(): void {
    this.#sessions.shutdown?.();
    this.#addresses.shutdown?.();
  }
}
