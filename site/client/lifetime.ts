// What the page says about the sandbox's time left: the countdown, when to warn, whether "Extend" can help, and how
// often to ask the server again. Pure, so it is tested without a browser.
import type { SandboxView } from '../../sandbox-server/src/protocol/schemas.ts';

export interface Countdown {
  /** Whole seconds until the sandbox ends, never negative. */
  secondsLeft: number;
  /** Short, for the terminal bar: "42 min left", "1 h 05 min left", "45 s left". */
  label: string;
  /** Time to warn the learner. */
  warn: boolean;
  /** An extension would give more time (not a workshop's sandbox, not at the maximum). */
  canExtend: boolean;
  /** The warning in words (without the time, which `label` counts down). */
  message: string;
}

/** "1 h 05 min", "42 min", "45 s": a duration as a learner reads it at a glance. */
export function formatLeft(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function countdown(view: SandboxView, now: number): Countdown {
  const expires = Date.parse(view.expiresAt);
  const endsBy = view.endsBy ? Date.parse(view.endsBy) : undefined;
  const secondsLeft = Math.max(0, Math.ceil((expires - now) / 1000));
  const warn = secondsLeft <= (view.warnSeconds ?? 300);
  const atLimit = endsBy !== undefined && expires >= endsBy;
  const canExtend = !view.workshop && endsBy !== undefined && !atLimit;
  // No number in the message: it is announced once when the warning appears, while the label counts down.
  let message = '';
  if (view.workshop) {
    message = 'The workshop ends soon, and your sandbox with it. Your instructor can give more time.';
  } else if (atLimit) {
    message = 'Your sandbox reaches its longest allowed time soon and cannot be extended. Save what you need.';
  } else {
    message =
      'Your sandbox stops soon because nothing happened in it for a while. Type in the terminal or press Extend to keep it.';
  }
  return { secondsLeft, label: `${formatLeft(secondsLeft)} left`, warn, canExtend, message };
}

/**
 * When to ask the server again: the expiry moves whenever the learner types, so the page re-reads it — every 30 s,
 * sooner for short idle periods, and every few seconds while a warning shows (so typing makes it go away).
 */
export function refreshDelayMs(view: SandboxView, now: number): number {
  const { warn, secondsLeft } = countdown(view, now);
  const idle = view.idleSeconds ?? 3600;
  const base = Math.min(30_000, Math.max(2_000, (idle * 1000) / 8));
  if (warn) return Math.min(base, 3_000);
  // Wake up in time for the warning too.
  const untilWarn = (secondsLeft - (view.warnSeconds ?? 300)) * 1000;
  return Math.max(1_000, Math.min(base, untilWarn));
}

/** Minutes one press of "Extend" asks for: one idle period, at least one minute. */
export const extensionMinutes = (view: SandboxView) => Math.max(1, Math.ceil((view.idleSeconds ?? 1800) / 60));
