// hono-rate-limiter's counters kept in our database instead of each process's memory: replicas on one PostgreSQL
// share one budget per learner (with the default in-memory store, two replicas would give twice the budget).
import type { Env } from 'hono';
import type { ClientRateLimitInfo, HonoConfigType, Store } from 'hono-rate-limiter';
import type { RateLimitCount, RateLimitCounters } from '../store/repository.ts';

const info = (count: RateLimitCount): ClientRateLimitInfo => ({ totalHits: count.hits, resetTime: count.resetAt });

/**
 * A hono-rate-limiter `Store` on the database. It counts as the library's MemoryStore does (a key's window starts at
 * its first hit and lasts `windowMs`), only in one place for every replica; `name` keeps this limiter's counts apart
 * from every other limiter's on the same key.
 */
export class SharedRateLimitStore<E extends Env = Env> implements Store<E> {
  /** Hits counted by one instance reach every other instance on the same database. */
  readonly localKeys = false;
  readonly prefix: string;
  readonly #counters: RateLimitCounters;
  #windowMs = 60_000;

  constructor(counters: RateLimitCounters, name: string) {
    this.#counters = counters;
    this.prefix = name;
  }

  init(options: HonoConfigType<E>): void {
    this.#windowMs = options.windowMs;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const count = await this.#counters.hits(this.prefix, key);
    return count && info(count);
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    return info(
      await this.#counters.countHit({ limiter: this.prefix, key, windowMs: this.#windowMs, now: new Date() }),
    );
  }

  /** Called after the response when the request turned out not to count (a right code, a known join code). */
  async decrement(key: string): Promise<void> {
    await this.#counters.uncountHit(this.prefix, key);
  }

  async resetKey(key: string): Promise<void> {
    await this.#counters.resetHits(this.prefix, key);
  }
}
