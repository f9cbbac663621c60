import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActivityRecorder, activityInterval } from './activity.ts';

const log = pino({ level: 'silent' });

describe('ActivityRecorder', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-25T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function recorder() {
    const writes: Array<{ id: string; at: string }> = [];
    const write = async (id: string, at: Date) => {
      writes.push({ id, at: at.toISOString() });
      return at;
    };
    return { writes, activity: new ActivityRecorder(write, 10_000, log) };
  }

  it('writes the first keystroke at once and folds a burst into one write with the latest time', async () => {
    const { writes, activity } = recorder();
    activity.touch('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual([{ id: 'a', at: '2026-11-25T12:00:00.000Z' }]);
    // 500 keystrokes over the next 5 s: no write until the interval is over, then one with the last keystroke's time.
    for (let i = 0; i < 500; i++) {
      await vi.advanceTimersByTimeAsync(10);
      activity.touch('a');
    }
    expect(writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(writes).toEqual([
      { id: 'a', at: '2026-11-25T12:00:00.000Z' },
      { id: 'a', at: '2026-11-25T12:00:05.000Z' },
    ]);
    // Quiet afterwards: nothing more is written.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(writes).toHaveLength(2);
  });

  it('throttles each sandbox on its own', async () => {
    const { writes, activity } = recorder();
    activity.touch('a');
    activity.touch('b');
    activity.touch('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.map((w) => w.id)).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(writes.map((w) => w.id)).toEqual(['a', 'b', 'a']);
  });

  it('keeps going after a failed write, and writes nothing once stopped', async () => {
    let fail = true;
    const seen: string[] = [];
    const activity = new ActivityRecorder(
      async (id) => {
        seen.push(id);
        if (fail) throw new Error('API server away');
        return undefined;
      },
      1_000,
      log,
    );
    activity.touch('a');
    await vi.advanceTimersByTimeAsync(0);
    fail = false;
    activity.touch('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen).toEqual(['a', 'a']);
    activity.stop();
    activity.touch('a');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(seen).toEqual(['a', 'a']);
  });

  it('writes at most once a tenth of the idle period, between 1 s and a minute', () => {
    expect(activityInterval(30 * 60_000)).toBe(60_000);
    expect(activityInterval(5 * 60_000)).toBe(30_000);
    expect(activityInterval(3_000)).toBe(1_000);
  });
});
