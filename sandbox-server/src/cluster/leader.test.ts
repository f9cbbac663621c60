import { expect, it } from 'vitest';
import { microTime } from './leader.ts';

it('writes Lease times with the six fractional digits the API server requires', () => {
  expect(microTime(new Date('2026-11-30T09:37:23.613Z'))).toBe('2026-11-30T09:37:23.613000Z');
});
