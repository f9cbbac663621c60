// Timing claims ("every 10 seconds"), judged from log lines the container runtime timestamped as it received them.
import type { CheckDefinitionInput, Pod } from '../model.ts';
import { fail, LOG_BOUNDS, pass, withPod } from './common.ts';
import { findContainer } from './pods.ts';

/** One log line with the time (epoch ms) the runtime received it. */
export interface TimedLine {
  at: number;
  text: string;
}

// "2026-11-30T05:44:10.123456789Z text": RFC 3339 with up to nanoseconds, as `kubectl logs --timestamps` shows.
const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) ?(.*)$/;

/** Parses a log read with `timestamps: true`; lines without a readable timestamp are left out. */
export function parseTimestamped(log: string): TimedLine[] {
  const lines: TimedLine[] = [];
  for (const raw of log.split('\n')) {
    const match = STAMPED.exec(raw.replace(/\r$/, ''));
    if (!match) continue;
    const [, seconds, fraction = '', zone, text = ''] = match;
    // Date.parse reads milliseconds only; keep the first three fraction digits.
    const at = Date.parse(`${seconds}.${fraction.padEnd(3, '0').slice(0, 3)}${zone}`);
    if (!Number.isNaN(at)) lines.push({ at, text });
  }
  return lines;
}

/** How far a gap may stray from the period: a loop's own work and a busy node add a little, never halve it. */
export const PERIOD_TOLERANCE = { early: 0.25, late: 0.35 } as const;

/** Verdict on "repeats every `periodMs`" from the times of the matching lines, oldest first. */
export type Repetition =
  | { kind: 'too-few'; count: number }
  | { kind: 'off'; gapMs: number }
  | { kind: 'stopped'; sinceMs: number; gapMs: number }
  | { kind: 'ok'; gapMs: number };

/** The window a gap between two repetitions must fall in, in ms. */
export function periodWindow(periodMs: number): { min: number; max: number } {
  return { min: periodMs * (1 - PERIOD_TOLERANCE.early), max: periodMs * (1 + PERIOD_TOLERANCE.late) };
}

/**
 * Judges the two most recent events: they must be one period apart (within the tolerance), and the latest must be
 * recent (it is still repeating at `now`). Only the latest gap counts, so a line printed once before the loop, or a
 * loop that sleeps before it prints, is fine. `slackMs` allows for log delivery and clock differences.
 */
export function judgeRepetition(times: readonly number[], periodMs: number, now: number, slackMs = 5000): Repetition {
  if (times.length < 2) return { kind: 'too-few', count: times.length };
  const last = times[times.length - 1] as number;
  const gapMs = last - (times[times.length - 2] as number);
  const { min, max } = periodWindow(periodMs);
  if (gapMs < min || gapMs > max) return { kind: 'off', gapMs };
  const sinceMs = now - last;
  if (sinceMs > max + slackMs) return { kind: 'stopped', sinceMs, gapMs };
  return { kind: 'ok', gapMs };
}

/**
 * True when waiting longer cannot change a verdict that is not `ok`: the latest line is already older than a period
 * (so no next line will come in time), or the last two gaps were both off (a steady wrong rhythm, not one stray line).
 */
export function repetitionSettled(times: readonly number[], periodMs: number, now: number, slackMs = 2000): boolean {
  const { min, max } = periodWindow(periodMs);
  const last = times[times.length - 1];
  if (last !== undefined && now - last > max + slackMs) return true;
  const gaps = times.slice(-3).map((t, i, a) => (i === 0 ? undefined : t - (a[i - 1] as number)));
  const off = gaps.filter((g): g is number => g !== undefined && (g < min || g > max));
  return off.length === 2;
}

/** Seconds with one decimal, for messages: 10.0 s. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * How much longer to wait for something a container should do within `patienceMs` of starting: the rest of that time
 * (at least 1 ms, so one look is taken), or all of it when the container is not running yet.
 */
export function waitLeft(pod: Pod, container: string, patienceMs: number, now = Date.now()): number {
  const startedAt = Date.parse(findContainer(pod, container)?.status?.state.running?.startedAt ?? '');
  if (Number.isNaN(startedAt)) return patienceMs;
  return Math.max(1, Math.min(patienceMs, startedAt + patienceMs - now));
}

/** What `lineRepeats` needs to know. */
export interface LineRepeatsOptions {
  id: string;
  pod: string;
  container: string;
  /** The text every repetition's line contains. */
  line: string;
  periodMs: number;
  requires: string[];
}

/**
 * Check: `container` logs `line` every `periodMs`. Reads the log with the runtime's timestamps and waits, at most until
 * a fresh container has had time to print twice (a loop may sleep before it prints), for two lines one period apart.
 */
export function lineRepeats(options: LineRepeatsOptions): CheckDefinitionInput {
  const { id, pod, container, line, periodMs, requires } = options;
  const { max } = periodWindow(periodMs);
  // Two periods (sleep first, then print, twice) plus the late tolerance and a little for the runtime.
  const patienceMs = 2 * max + 3000;
  return {
    id,
    title: `${container} logs "${line}" every ${periodMs / 1000} seconds`,
    hint: `Print the line in a loop that sleeps ${periodMs / 1000} seconds each time round; \`kubectl logs ${pod} -c ${container} --timestamps\` shows when each line came.`,
    requires,
    timeoutMs: patienceMs + 10_000,
    run: withPod(pod, async (p, ctx) => {
      // A container that has run long enough to have printed twice is judged on what it printed: no waiting.
      const waitMs = waitLeft(p, container, patienceMs);
      let matched: TimedLine[] = [];
      let verdict = { kind: 'too-few', count: 0 } as Repetition;
      await ctx.waitFor(
        async () => {
          const text = (await ctx.logs(pod, container, { ...LOG_BOUNDS, timestamps: true })) ?? '';
          matched = parseTimestamped(text).filter((l) => l.text.includes(line));
          const times = matched.map((l) => l.at);
          verdict = judgeRepetition(times, periodMs, Date.now());
          return verdict.kind === 'ok' || repetitionSettled(times, periodMs, Date.now());
        },
        { timeoutMs: waitMs, intervalMs: 1000 },
      );
      const evidence = {
        verdict,
        periodMs,
        lastMatches: matched.slice(-3).map((l) => `${new Date(l.at).toISOString()} ${l.text}`),
      };
      const every = `every ${periodMs / 1000} seconds`;
      switch (verdict.kind) {
        case 'ok':
          return pass(`${container} printed "${line}" twice, ${seconds(verdict.gapMs)} apart.`, evidence);
        case 'too-few':
          return fail(
            verdict.count === 0
              ? `${container} did not print "${line}" at all.`
              : `${container} printed "${line}" only once; it should print it ${every}, in a loop.`,
            evidence,
          );
        case 'off':
          return fail(
            `${container}'s last two "${line}" lines came ${seconds(verdict.gapMs)} apart; it should print it ${every}.`,
            evidence,
          );
        case 'stopped':
          return fail(
            `${container} last printed "${line}" ${seconds(verdict.sinceMs)} ago; it should keep printing it ${every}.`,
            evidence,
          );
      }
    }),
  };
}
