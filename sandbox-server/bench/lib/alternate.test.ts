// The alternating sampler: the order reverses each round, failures are retried on every side alike and kept.
import { describe, expect, it } from 'vitest';
import { alternate, failureNote, maxTries, roundOrder } from './alternate.ts';

describe('roundOrder', () => {
  it('reverses every other round, so no side always runs after the same one', () => {
    expect(roundOrder(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(roundOrder(['a', 'b', 'c'], 1)).toEqual(['c', 'b', 'a']);
    expect(roundOrder(['a', 'b', 'c'], 2)).toEqual(['a', 'b', 'c']);
  });
});

describe('alternate', () => {
  it('takes n samples of each side in alternating rounds', async () => {
    const calls: string[] = [];
    const side = (name: string) => async () => {
      calls.push(name);
      return calls.length;
    };
    const done = await alternate({ base: side('base'), subject: side('subject') }, 3);
    expect(calls).toEqual(['base', 'subject', 'subject', 'base', 'base', 'subject']);
    expect(done.base.samples).toHaveLength(3);
    expect(done.subject.samples).toHaveLength(3);
  });

  it('retries a failed sample in a later round, for either side, and keeps the failure', async () => {
    const calls: string[] = [];
    let baseFails = 1;
    const done = await alternate(
      {
        base: async () => {
          calls.push('base');
          if (baseFails-- > 0) throw new Error('503 from the API server');
          return 1;
        },
        subject: async () => {
          calls.push('subject');
          return 2;
        },
      },
      2,
    );
    // The subject sits out once it has its samples; the base makes up its failed one in a third round.
    expect(calls).toEqual(['base', 'subject', 'subject', 'base', 'base']);
    expect(done.base).toEqual({ samples: [1, 1], failures: ['503 from the API server'] });
    expect(done.subject).toEqual({ samples: [2, 2], failures: [] });
    expect(failureNote(done.base, 2)).toBe('1 failed and were retried: 503 from the API server');
    expect(failureNote(done.subject, 2)).toBe('');
  });

  it('gives every side the same number of tries, then stops short and says so', async () => {
    const done = await alternate(
      {
        broken: async () => {
          throw new Error('never');
        },
        fine: async () => 5,
      },
      2,
    );
    expect(done.broken.samples).toEqual([]);
    expect(done.broken.failures).toHaveLength(maxTries(2));
    expect(done.fine.samples).toEqual([5, 5]);
    expect(failureNote(done.broken, 2)).toMatch(/^7 failed and were retried, only 0 of 2 samples made it: never$/);
  });
});
