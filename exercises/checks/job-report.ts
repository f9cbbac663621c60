// The sidecar-job exercise's proofs, as pure functions: a token the worker made up at run time, found in both logs,
// and how long the sidecar outlived the worker.

/** The line the worker prints and writes into the report: "report-job: token <token>". */
export const TOKEN_LINE = /report-job: token ([A-Za-z0-9-]{8,})/g;

/** Every token announced in a log, in order (a log may repeat the line; the last one is the run's). */
export function tokensIn(log: string): string[] {
  return [...log.matchAll(TOKEN_LINE)].map((m) => m[1] as string);
}

/**
 * True when `token` appears in the Job's own spec (command, args, env): then it was written by the learner, not made
 * up when the worker ran, and a shipper could print it without reading anything.
 */
export function tokenInSpec(token: string, spec: unknown): boolean {
  return JSON.stringify(spec).includes(token);
}

/**
 * Milliseconds between the worker's end and the sidecar's, from the kubelet's `finishedAt` times (RFC 3339, whole
 * seconds). Undefined when either is missing or unreadable.
 */
export function stopDelayMs(workerFinishedAt: string | undefined, sidecarFinishedAt: string | undefined) {
  if (!workerFinishedAt || !sidecarFinishedAt) return undefined;
  const worker = Date.parse(workerFinishedAt);
  const sidecar = Date.parse(sidecarFinishedAt);
  if (Number.isNaN(worker) || Number.isNaN(sidecar)) return undefined;
  return sidecar - worker;
}
