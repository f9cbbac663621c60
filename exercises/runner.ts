// Runs an exercise's checks in order against a namespace, each under its own deadline, and builds the report.
//
// Decisions, so the site, the CLI and stored verdicts agree:
// - A check whose `requires` did not pass is not run. It is reported as `fail` ("Not checked yet; first fix: …") when the
//   earlier check failed, and as `error` when the earlier one could not be decided; so the first failing check is the
//   one to fix, and later ones never pile up misleading messages.
// - Anything a check throws becomes `error`, never `fail`: "cluster unavailable: …" for cluster errors, "checker error:
//   …" for bugs. A check that overruns its deadline is `error` too (the cluster was too slow to decide).
// - The report's status is `error` when any check is `error` (the verdict is incomplete), else `fail` when any failed.

import { StillStartingError } from './checks/image-pull.ts';
import { makeCheckContext } from './context.ts';
import { ClusterUnavailableError } from './errors.ts';
import {
  type CheckContext,
  type CheckDefinition,
  CheckOutcomeSchema,
  type CheckResult,
  type CheckStatus,
  type Evidence,
  type ExerciseDefinition,
  type ExerciseReport,
} from './model.ts';

/** Options for one run. */
export interface RunOptions {
  /** Bound on the whole run; checks still pending when it passes are reported as `error`. Default 90 s or more (`overallBound`). */
  overallTimeoutMs?: number;
  /** Called as each check finishes, e.g. to stream results to the page. */
  onResult?: (result: CheckResult) => void;
}

/** Evidence beyond this many bytes of JSON is cut, so stored verdicts stay small. */
export const MAX_EVIDENCE_BYTES = 16 * 1024;
const MAX_STRING = 2000;
const MAX_ITEMS = 40;

class DeadlineError extends Error {}

/** Shrinks evidence: long strings and arrays are shortened, and the whole is capped at MAX_EVIDENCE_BYTES. */
export function boundEvidence(evidence: Evidence): Evidence {
  const shrink = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') {
      return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}… (${value.length} chars)` : value;
    }
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ITEMS).map((item) => shrink(item, depth + 1));
      return value.length > MAX_ITEMS ? [...items, `… ${value.length - MAX_ITEMS} more`] : items;
    }
    if (value !== null && typeof value === 'object') {
      if (depth > 8) return '…';
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shrink(v, depth + 1)]));
    }
    return value;
  };
  const shrunk = shrink(evidence, 0) as Evidence;
  const json = JSON.stringify(shrunk) ?? '{}';
  if (json.length <= MAX_EVIDENCE_BYTES) return shrunk;
  return { truncated: true, preview: `${json.slice(0, MAX_EVIDENCE_BYTES - 200)}…` };
}

function errorMessage(error: unknown): string {
  if (error instanceof ClusterUnavailableError) return `cluster unavailable: ${error.message}`;
  if (error instanceof DeadlineError || error instanceof StillStartingError) return error.message;
  return `checker error: ${error instanceof Error ? error.message : String(error)}`;
}

/** One check's result, and whether it was cut off at its deadline. */
async function runOne(
  check: CheckDefinition,
  ctx: CheckContext,
  deadline: number,
): Promise<{ result: CheckResult; overran: boolean }> {
  const started = Date.now();
  const scoped = makeCheckContext(ctx, {
    namespace: ctx.namespace,
    ...(ctx.answer === undefined ? {} : { answer: ctx.answer }),
    deadline,
  });
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(`the cluster did not let this check finish within ${deadline - started} ms`)),
      Math.max(0, deadline - started),
    );
  });
  const base = { id: check.id, title: check.title };
  try {
    const outcome = CheckOutcomeSchema.parse(await Promise.race([check.run(scoped), overrun]));
    const result: CheckResult = {
      ...base,
      status: outcome.status,
      message: outcome.message,
      ...(outcome.status === 'fail' && check.hint ? { hint: check.hint } : {}),
      evidence: boundEvidence(outcome.evidence),
      durationMs: Date.now() - started,
    };
    return { result, overran: false };
  } catch (error) {
    const evidence: Evidence = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    const result: CheckResult = {
      ...base,
      status: 'error',
      message: errorMessage(error),
      evidence,
      durationMs: Date.now() - started,
    };
    return { result, overran: error instanceof DeadlineError };
  } finally {
    clearTimeout(timer);
  }
}

function notRun(check: CheckDefinition, blocker: CheckResult): CheckResult {
  const status: CheckStatus = blocker.status === 'error' ? 'error' : 'fail';
  const message =
    status === 'error'
      ? `Not checked, because an earlier check could not be decided: ${blocker.title}.`
      : `Not checked yet; first fix: ${blocker.title}.`;
  return { id: check.id, title: check.title, status, message, evidence: { blockedBy: blocker.id }, durationMs: 0 };
}

/** Summarises check results: `error` beats `fail` beats `pass`. */
export function overallStatus(checks: readonly CheckResult[]): CheckStatus {
  if (checks.some((c) => c.status === 'error')) return 'error';
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  return 'pass';
}

/**
 * A bound for a whole run: `floorMs`, or more when one check may wait longer than that (config-reload waits for the
 * kubelet), so the run's bound never cuts its slowest check short.
 */
export function overallBound(exercise: Pick<ExerciseDefinition, 'checks'>, floorMs: number): number {
  return Math.max(floorMs, ...exercise.checks.map((c) => c.timeoutMs + 20_000));
}

/** Runs every check of `exercise` in order against `ctx` (whose `answer` carries a text answer, if any). */
export async function runExercise(
  exercise: Pick<ExerciseDefinition, 'id' | 'checks'>,
  ctx: CheckContext,
  options: RunOptions = {},
): Promise<ExerciseReport> {
  const startedAt = new Date();
  const overallDeadline = startedAt.getTime() + (options.overallTimeoutMs ?? overallBound(exercise, 90_000));
  const results: CheckResult[] = [];
  const byId = new Map<string, CheckResult>();
  // A check cut off at the run's own deadline ends the run, whatever the clock says next: timers and Date.now() may
  // disagree by a millisecond, and a check must not start in that sliver.
  let outOfTime = false;
  for (const check of exercise.checks) {
    const blocker = check.requires.map((id) => byId.get(id)).find((r) => r !== undefined && r.status !== 'pass');
    let result: CheckResult;
    if (blocker) {
      result = notRun(check, blocker);
    } else if (outOfTime || Date.now() >= overallDeadline) {
      result = {
        id: check.id,
        title: check.title,
        status: 'error',
        message: 'Not checked: the whole check ran out of time; try again.',
        evidence: {},
        durationMs: 0,
      };
    } else {
      const deadline = Math.min(Date.now() + check.timeoutMs, overallDeadline);
      const run = await runOne(check, ctx, deadline);
      result = run.result;
      outOfTime = run.overran && deadline === overallDeadline;
    }
    results.push(result);
    byId.set(check.id, result);
    options.onResult?.(result);
  }
  const status = overallStatus(results);
  return {
    exercise: exercise.id,
    passed: status === 'pass',
    status,
    checks: results,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
  };
}

/** The first check that did not pass, if any: what a learner should fix next. */
export function firstProblem(report: ExerciseReport): CheckResult | undefined {
  return report.checks.find((c) => c.status !== 'pass');
}
