// "Fails every few seconds": a container's failures, read from its status, judged as a repetition rather than a
// single event (a container that failed once and then stayed up does not fail every few seconds).
import type { ContainerStatus } from '../model.ts';
import { seconds } from './timing.ts';

/** What a container status tells about its failures so far. */
export interface FailureHistory {
  /** Instances that have ended: the restarts, plus the current one when it is not running. */
  ended: number;
  /** Exit code and run time of the latest ended instance. */
  lastExit: number | undefined;
  lastRunMs: number | undefined;
  /** How long the current instance has been running; undefined when it is not running. */
  runningMs: number | undefined;
}

const span = (from: string | undefined, to: string | undefined) =>
  from && to ? Date.parse(to) - Date.parse(from) : undefined;

/** Reads the failure history from one container status at time `now`. */
export function failureHistory(status: ContainerStatus, now: number): FailureHistory {
  const running = status.state.running;
  const latest = status.state.terminated ?? status.lastState.terminated;
  return {
    ended: status.restartCount + (running ? 0 : latest ? 1 : 0),
    lastExit: latest?.exitCode,
    lastRunMs: span(latest?.startedAt, latest?.finishedAt),
    runningMs: running?.startedAt ? now - Date.parse(running.startedAt) : undefined,
  };
}

/** A verdict on "fails every few seconds", or `wait` while it cannot be told yet. */
export type Flakiness =
  | { kind: 'ok'; failures: number; lastExit: number }
  | { kind: 'wait'; why: string }
  | { kind: 'fail'; why: string };

/**
 * Judges a container that should exit with an error at least every `quietMs`, and be restarted. It passes once it has
 * ended at least twice, the latest time with a non-zero code after a short run, and is not running now (so the run we
 * judge is the latest one: a container that failed twice and then stayed up is caught while it stays up). `restarts`
 * says whether the kubelet restarts it after it ends.
 */
export function judgeFlakiness(history: FailureHistory, quietMs: number, restarts: boolean): Flakiness {
  const { ended, lastExit, lastRunMs, runningMs } = history;
  if (runningMs !== undefined) {
    if (runningMs > quietMs) {
      const before = ended > 0 ? ` (it had failed ${ended} time(s) before)` : '';
      return { kind: 'fail', why: `has been running for ${seconds(runningMs)} without failing${before}` };
    }
    return { kind: 'wait', why: `is running (${seconds(runningMs)}); waiting for it to fail` };
  }
  if (lastExit === undefined) return { kind: 'wait', why: 'has not started yet' };
  if (lastExit === 0) return { kind: 'fail', why: 'exits with code 0 (success), not with an error' };
  if (!restarts) return { kind: 'fail', why: `exited with code ${lastExit} and is not restarted` };
  if (lastRunMs !== undefined && lastRunMs > quietMs) {
    return { kind: 'fail', why: `ran for ${seconds(lastRunMs)} before it failed, not a few seconds` };
  }
  if (ended < 2) return { kind: 'wait', why: 'has failed once; waiting for it to fail again' };
  return { kind: 'ok', failures: ended, lastExit };
}
