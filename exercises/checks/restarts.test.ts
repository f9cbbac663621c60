// Failure history and the "fails every few seconds" verdict, from container statuses.
import { describe, expect, it } from 'vitest';
import { ContainerStatusSchema } from '../model.ts';
import { failureHistory, judgeFlakiness } from './restarts.ts';

const T0 = Date.parse('2026-11-30T05:00:00Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const ended = (from: number, to: number, exitCode = 1) => ({
  terminated: { exitCode, startedAt: iso(from), finishedAt: iso(to) },
});
const status = (fields: object) => ContainerStatusSchema.parse({ name: 'flaky', ...fields });

describe('failureHistory', () => {
  it('counts the current instance as ended when it is waiting to be restarted', () => {
    const s = status({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: ended(15, 20) });
    expect(failureHistory(s, T0 + 25_000)).toEqual({ ended: 2, lastExit: 1, lastRunMs: 5000, runningMs: undefined });
  });

  it('counts only the restarts while the container runs', () => {
    const s = status({ restartCount: 1, state: { running: { startedAt: iso(15) } }, lastState: ended(0, 5) });
    expect(failureHistory(s, T0 + 18_000)).toEqual({ ended: 1, lastExit: 1, lastRunMs: 5000, runningMs: 3000 });
  });

  it('reads a container that ended and was not restarted', () => {
    const s = status({ restartCount: 0, state: ended(0, 3, 2) });
    expect(failureHistory(s, T0 + 10_000)).toMatchObject({ ended: 1, lastExit: 2, runningMs: undefined });
  });
});

describe('judgeFlakiness', () => {
  const quiet = 25_000;
  const h = (fields: Partial<ReturnType<typeof failureHistory>>) => ({
    ended: 0,
    lastExit: undefined,
    lastRunMs: undefined,
    runningMs: undefined,
    ...fields,
  });

  it('passes a container that has failed twice with an error after short runs and is down now', () => {
    expect(judgeFlakiness(h({ ended: 2, lastExit: 1, lastRunMs: 5000 }), quiet, true)).toEqual({
      kind: 'ok',
      failures: 2,
      lastExit: 1,
    });
  });

  it('waits while a young instance runs, or after the first failure', () => {
    expect(judgeFlakiness(h({ ended: 1, lastExit: 1, lastRunMs: 5000, runningMs: 3000 }), quiet, true).kind).toBe(
      'wait',
    );
    expect(judgeFlakiness(h({ ended: 1, lastExit: 1, lastRunMs: 5000 }), quiet, true).kind).toBe('wait');
    expect(judgeFlakiness(h({}), quiet, true).kind).toBe('wait');
  });

  it('fails a container that failed and then stayed up', () => {
    const verdict = judgeFlakiness(h({ ended: 1, lastExit: 1, lastRunMs: 1000, runningMs: 30_000 }), quiet, true);
    expect(verdict).toEqual({
      kind: 'fail',
      why: 'has been running for 30.0 s without failing (it had failed 1 time(s) before)',
    });
  });

  it('fails exit code 0, no restarts, and long runs', () => {
    expect(judgeFlakiness(h({ ended: 3, lastExit: 0, lastRunMs: 3000 }), quiet, true).kind).toBe('fail');
    expect(judgeFlakiness(h({ ended: 1, lastExit: 1, lastRunMs: 3000 }), quiet, false).kind).toBe('fail');
    expect(judgeFlakiness(h({ ended: 2, lastExit: 1, lastRunMs: 60_000 }), quiet, true).kind).toBe('fail');
  });
});
