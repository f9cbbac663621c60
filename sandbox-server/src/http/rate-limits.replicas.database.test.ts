// Two server replicas on one PostgreSQL database share their rate limits: wrong resume codes (or guessed sandbox ids)
// sent alternately to either replica spend one budget, and once it is spent both answer 429 with Retry-After. The apps run through
// app.request(); nothing here needs a cluster.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../tests/support/store-backends.ts';
import { appDeps, browserWith, signedCookie } from '../../test/app-request.ts';
import { PostgresRepository } from '../store/postgres.ts';
import { createApp } from './app.ts';
import { DEFAULT_PROBE_BUDGET } from './probe-limit.ts';
import { SessionSigner } from './session.ts';

const opened: PostgresRepository[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((r) => r.close()));
});

const signer = new SessionSigner('q'.repeat(40));
/** resumeRoutes' default budget of wrong codes per address and ten minutes. */
const WRONG_CODES = 30;

async function replica(url: string) {
  const repo = await PostgresRepository.open(url);
  opened.push(repo);
  // No sandbox exists: every lookup of an id is a miss.
  return createApp(appDeps(repo, signer, { sandboxes: { get: async () => undefined } as never }));
}

describe('rate limits across replicas', () => {
  it('spend one budget of wrong resume codes, whichever replica each guess reaches', async () => {
    const url = await freshDatabase();
    const replicas = [await replica(url), await replica(url)];
    const cookie = signedCookie(signer);
    const on = (i: number) => browserWith(() => replicas[i % 2]!, cookie);
    const guess = (i: number) =>
      on(i).call('POST', '/api/resume', { code: `ZZZZ-ZZZZ-Z${String(i).padStart(3, '0')}` });

    const answers: number[] = [];
    for (let i = 0; i < WRONG_CODES; i++) answers.push((await guess(i)).status);
    // Each replica saw only half of them: counting alone, neither would stop the next one.
    expect(answers).toEqual(Array.from({ length: WRONG_CODES }, () => 404));

    for (const i of [0, 1]) {
      const capped = await guess(WRONG_CODES + i);
      expect(capped.status, `replica ${i === 0 ? 'A' : 'B'} counts the other's guesses`).toBe(429);
      expect(capped.json).toMatchObject({ error: { code: 'rate_limited', message: /too many wrong resume codes/ } });
      const retryAfter = Number(capped.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
      expect(capped.headers.get('ratelimit-policy')).toBe(`${WRONG_CODES};w=600`);
    }
  });

  it('spend one budget of sandbox-id guesses per session, whichever replica each guess reaches', async () => {
    const url = await freshDatabase();
    const replicas = [await replica(url), await replica(url)];
    const cookie = signedCookie(signer);
    const on = (i: number) => browserWith(() => replicas[i % 2]!, cookie);
    const guess = (i: number) => on(i).call('GET', `/api/sandboxes/${randomBytes(8).toString('hex')}`);

    const answers: number[] = [];
    for (let i = 0; i < DEFAULT_PROBE_BUDGET.perSession; i++) answers.push((await guess(i)).status);
    expect(answers).toEqual(Array.from({ length: DEFAULT_PROBE_BUDGET.perSession }, () => 404));

    for (const i of [0, 1]) {
      const capped = await guess(DEFAULT_PROBE_BUDGET.perSession + i);
      expect(capped.status, `replica ${i === 0 ? 'A' : 'B'} counts the other's misses`).toBe(429);
      expect(capped.json.error.message).toMatch(/^too many requests for sandboxes that do not exist; wait \d+ s$/);
      expect(Number(capped.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
