// The kubelet's pull durations, as its "Successfully pulled image" events print them (Go's time.Duration).
import { describe, expect, it } from 'vitest';
import { goDurationMs } from './seed-burst.ts';

describe('goDurationMs', () => {
  it('reads the forms Go prints', () => {
    expect(goDurationMs('45ms')).toBe(45);
    expect(goDurationMs('1.5s')).toBe(1500);
    expect(goDurationMs('1m3.5s')).toBe(63_500);
    expect(goDurationMs('800µs')).toBeCloseTo(0.8);
    expect(goDurationMs('0s')).toBe(0);
  });
});
