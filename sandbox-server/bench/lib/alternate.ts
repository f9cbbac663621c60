// Both sides of a ratio sampled alternately: round by round every side takes one sample, in an order that reverses
// each round (A B C, C B A, …) so no side always follows the same one; a failed sample is retried in a later round,
// and every side gets the same number of tries, so failures cost both sides alike and are counted, never hidden.

/** The order of the sides in round `round` (0-based): as given in even rounds, reversed in odd ones. */
export function roundOrder<K extends string>(sides: readonly K[], round: number): K[] {
  return round % 2 === 0 ? [...sides] : [...sides].reverse();
}

/** How many tries a side gets for `n` samples: every sample may fail once, plus a few for a bad stretch. */
export const maxTries = (n: number) => 2 * n + 3;

export interface SideSamples {
  samples: number[];
  /** Every failed try's message, in order (each was retried while tries were left). */
  failures: string[];
}

export interface AlternateOptions<K extends string> {
  /** Called after every successful sample, e.g. to log progress. */
  onSample?: (side: K, value: number, done: Record<K, SideSamples>) => void;
}

/**
 * Takes `n` samples of every side, alternating: `sides[k]()` resolves with one sample or throws. A side with `n`
 * samples sits out the following rounds; a side that ran out of tries stops short (the caller reports how short).
 */
export async function alternate<K extends string>(
  sides: Record<K, () => Promise<number>>,
  n: number,
  options: AlternateOptions<K> = {},
): Promise<Record<K, SideSamples>> {
  const names = Object.keys(sides) as K[];
  const done = Object.fromEntries(names.map((k) => [k, { samples: [], failures: [] }])) as unknown as Record<
    K,
    SideSamples
  >;
  const tries = (k: K) => done[k].samples.length + done[k].failures.length;
  const wanting = (k: K) => done[k].samples.length < n && tries(k) < maxTries(n);
  for (let round = 0; names.some(wanting); round++) {
    for (const k of roundOrder(names, round)) {
      if (!wanting(k)) continue;
      try {
        const value = await sides[k]();
        done[k].samples.push(value);
        options.onSample?.(k, value, done);
      } catch (error) {
        done[k].failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  }
  return done;
}

/** A note for a row: how many tries failed (and were retried) and the first reason, or '' when none did. */
export function failureNote(side: SideSamples, n: number, what = 'samples'): string {
  if (side.failures.length === 0) return '';
  const short = side.samples.length < n ? `, only ${side.samples.length} of ${n} ${what} made it` : '';
  return `${side.failures.length} failed and were retried${short}: ${side.failures[0]!.slice(0, 200)}`;
}
