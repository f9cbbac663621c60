// The rate limit counters on both stores: two instances on one database (two replicas, or two connections to one
// SQLite file) count into one window, a window starts again once it ends, and hits counted at once are all kept.
import { describe, expect, it } from 'vitest';
import { storeBackends, storesOn } from '../../../tests/support/store-backends.ts';
import type { RateLimitHit } from './repository.ts';

const T0 = new Date('2026-03-02T09:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const hit = (now: Date, over: Partial<RateLimitHit> = {}): RateLimitHit => ({
  limiter: 'create',
  key: 'session-1',
  windowMs: 60_000,
  now,
  ...over,
});

for (const backend of storeBackends) {
  describe(`rate limit counters (${backend.name})`, () => {
    const stores = storesOn(backend);

    it('count into one window from two instances on the same database', async () => {
      const { repo: a, reopen } = await stores.open();
      const b = await reopen();
      const counted: number[] = [];
      for (const [i, replica] of [a, b, a, b, b].entries()) {
        counted.push((await replica.countHit(hit(at(i * 1000)))).hits);
      }
      expect(counted).toEqual([1, 2, 3, 4, 5]);
      // The window started at the first hit, whichever instance counted it.
      expect(await b.hits('create', 'session-1', at(5000))).toEqual({ hits: 5, resetAt: at(60_000) });
      expect(await a.hits('create', 'session-1', at(5000))).toEqual({ hits: 5, resetAt: at(60_000) });
    });

    it('start a new window once the last one ended, and purge ended windows', async () => {
      const { repo } = await stores.open();
      await repo.countHit(hit(T0));
      await repo.countHit(hit(at(30_000)));
      expect(await repo.countHit(hit(at(59_999)))).toEqual({ hits: 3, resetAt: at(60_000) });
      expect(await repo.hits('create', 'session-1', at(60_000)), 'nothing live once the window ended').toBeUndefined();
      expect(await repo.countHit(hit(at(60_000)))).toEqual({ hits: 1, resetAt: at(120_000) });

      await repo.countHit(hit(T0, { key: 'session-2', windowMs: 10_000 }));
      expect(await repo.purgeRateLimits(at(60_000))).toBe(1); // session-2's window ended at T0 + 10 s
      expect(await repo.hits('create', 'session-1', at(60_001))).toEqual({ hits: 1, resetAt: at(120_000) });
      expect(await repo.purgeRateLimits(at(120_000))).toBe(1);
      expect(await repo.hits('create', 'session-1', at(60_001))).toBeUndefined();
    });

    it('keep limiters and keys apart; take hits back down to zero; forget a key on reset', async () => {
      const { repo } = await stores.open();
      await repo.countHit(hit(T0));
      await repo.countHit(hit(T0));
      await repo.countHit(hit(T0, { limiter: 'redeem' }));
      await repo.countHit(hit(T0, { key: 'session-2' }));
      expect((await repo.hits('create', 'session-1', T0))?.hits).toBe(2);
      expect((await repo.hits('redeem', 'session-1', T0))?.hits).toBe(1);
      expect((await repo.hits('create', 'session-2', T0))?.hits).toBe(1);

      for (let i = 0; i < 3; i++) await repo.uncountHit('create', 'session-1');
      expect((await repo.hits('create', 'session-1', T0))?.hits, 'never below zero').toBe(0);
      expect((await repo.countHit(hit(at(1000)))).hits).toBe(1);

      await repo.resetHits('redeem', 'session-1');
      expect(await repo.hits('redeem', 'session-1', T0)).toBeUndefined();
      expect((await repo.hits('create', 'session-1', T0))?.hits).toBe(1);
    });

    it('keep every one of 50 hits counted at once from two instances', async () => {
      const { repo: a, reopen } = await stores.open();
      const b = await reopen();
      const counted = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).countHit(hit(T0))).map(async (p) => (await p).hits),
      );
      // Each hit saw its own count: no two read the same value, none was lost.
      expect(counted.toSorted((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await a.hits('create', 'session-1', T0)).toEqual({ hits: 50, resetAt: at(60_000) });
    });
  });
}
