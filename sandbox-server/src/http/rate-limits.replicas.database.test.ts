// Two server replicas on one PostgreSQL database share their rate limits: wrong resume codes sent alternately to
// either replica spend one budget, and once it is spent both answer 429 with Retry-After. The apps run through
// app.request(); nothing here needs a cluster.
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../tests/support/store-backends.ts';
import { appDeps, browserWith, signedCookie } from '../../test/app-request.ts';
import { PostgresRepository } from '../store/postgres.ts';
import { createApp } from './app.ts';
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
  return createApp(appDeps(repo, signer));
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
});
