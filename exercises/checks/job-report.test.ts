// The sidecar-job proofs: tokens read from logs, tokens written into the spec, and the sidecar's stop delay.
import { describe, expect, it } from 'vitest';
import { stopDelayMs, tokenInSpec, tokensIn } from './job-report.ts';

describe('tokensIn', () => {
  it('finds every announced token, uuid or hex, in order', () => {
    const log = 'starting\nreport-job: token 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed\nx\nreport-job: token a1b2c3d4e5\n';
    expect(tokensIn(log)).toEqual(['1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed', 'a1b2c3d4e5']);
  });

  it('ignores tokens shorter than 8 characters and other lines', () => {
    expect(tokensIn('report-job: token abc\nreport-job: done\ntoken 12345678')).toEqual([]);
  });
});

describe('tokenInSpec', () => {
  it('tells a token written in the Job from one made up at run time', () => {
    const spec = { containers: [{ command: ['sh', '-c', 'echo "report-job: token deadbeef01"'] }] };
    expect(tokenInSpec('deadbeef01', spec)).toBe(true);
    expect(tokenInSpec('0123abcd99', spec)).toBe(false);
  });
});

describe('stopDelayMs', () => {
  it('measures from the worker end to the sidecar end', () => {
    expect(stopDelayMs('2026-01-01T10:00:00Z', '2026-01-01T10:00:01Z')).toBe(1000);
    expect(stopDelayMs('2026-01-01T10:00:00Z', '2026-01-01T10:00:31Z')).toBe(31_000);
  });

  it('is undefined when a time is missing or unreadable', () => {
    expect(stopDelayMs(undefined, '2026-01-01T10:00:01Z')).toBeUndefined();
    expect(stopDelayMs('2026-01-01T10:00:00Z', 'soon')).toBeUndefined();
  });
});
