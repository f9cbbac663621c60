// Timing helpers: timestamped log lines and the "every N seconds" verdict.
import { describe, expect, it } from 'vitest';
import { judgeRepetition, parseTimestamped, repetitionSettled } from './timing.ts';

const at = (iso: string) => Date.parse(iso);

describe('parseTimestamped', () => {
  it('reads nanosecond RFC 3339 stamps and keeps the text after them', () => {
    const log = '2026-11-30T05:44:10.123456789Z Logging from sidecar container\n2026-11-30T05:44:20.5Z  two spaces\n';
    expect(parseTimestamped(log)).toEqual([
      { at: at('2026-11-30T05:44:10.123Z'), text: 'Logging from sidecar container' },
      { at: at('2026-11-30T05:44:20.500Z'), text: ' two spaces' },
    ]);
  });

  it('accepts stamps without a fraction or with an offset, and skips lines without a stamp', () => {
    const log = '2026-11-30T05:44:10Z a\nno stamp here\n2026-11-30T06:44:11+01:00 b\r\n';
    expect(parseTimestamped(log)).toEqual([
      { at: at('2026-11-30T05:44:10Z'), text: 'a' },
      { at: at('2026-11-30T05:44:11Z'), text: 'b' },
    ]);
  });
});

describe('judgeRepetition', () => {
  const t0 = at('2026-11-30T05:00:00Z');
  const s = (n: number) => t0 + n * 1000;

  it('passes two events one period apart, the latest recent', () => {
    expect(judgeRepetition([s(0), s(10)], 10_000, s(12))).toEqual({ kind: 'ok', gapMs: 10_000 });
  });

  it('judges only the latest gap: an extra line before the loop does not count', () => {
    expect(judgeRepetition([s(0), s(0.01), s(10.02)], 10_000, s(11)).kind).toBe('ok');
  });

  it('needs two events', () => {
    expect(judgeRepetition([], 10_000, s(1))).toEqual({ kind: 'too-few', count: 0 });
    expect(judgeRepetition([s(0)], 10_000, s(30))).toEqual({ kind: 'too-few', count: 1 });
  });

  it('refuses gaps far from the period, either way', () => {
    expect(judgeRepetition([s(0), s(1)], 10_000, s(2))).toEqual({ kind: 'off', gapMs: 1000 });
    expect(judgeRepetition([s(0), s(5)], 10_000, s(6)).kind).toBe('off');
    expect(judgeRepetition([s(0), s(20)], 10_000, s(21)).kind).toBe('off');
    expect(judgeRepetition([s(0), s(8)], 10_000, s(9)).kind).toBe('ok');
    expect(judgeRepetition([s(0), s(13)], 10_000, s(14)).kind).toBe('ok');
  });

  it('says when the repetition has stopped', () => {
    expect(judgeRepetition([s(0), s(10)], 10_000, s(40))).toEqual({ kind: 'stopped', sinceMs: 30_000, gapMs: 10_000 });
  });
});

describe('repetitionSettled', () => {
  const s = (n: number) => n * 1000;

  it('is settled when the latest line is older than a period: no next one comes in time', () => {
    expect(repetitionSettled([s(0)], 10_000, s(20))).toBe(true);
    expect(repetitionSettled([s(0)], 10_000, s(12))).toBe(false);
    expect(repetitionSettled([], 10_000, s(100))).toBe(false);
  });

  it('is settled by a steady wrong rhythm, not by one stray gap', () => {
    expect(repetitionSettled([s(0), s(1), s(2)], 10_000, s(2))).toBe(true);
    expect(repetitionSettled([s(0), s(0.1)], 10_000, s(1))).toBe(false);
    expect(repetitionSettled([s(0), s(0.1), s(10)], 10_000, s(11))).toBe(false);
  });
});
