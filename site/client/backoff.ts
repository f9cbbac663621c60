// Reconnect delays: exponential from 0.5 s, capped at 8 s, with jitter so many learners don't retry in step.

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 8000;

/** Delay before reconnect attempt `attempt` (0-based); `random` is injectable for tests. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempt));
  // ±20 %: enough to spread a room of reconnecting learners, small enough that the cap still holds roughly.
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, jittered)));
}

/** Calls `fn` at most once per `waitMs`, after the last call: the trailing edge of a burst. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, waitMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const debounced = (...args: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn(...args);
    }, waitMs);
  };
  debounced.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return debounced;
}
