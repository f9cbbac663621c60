// Where the room is stuck: per exercise, the check most learners fail in their latest verdict (pure, no I/O).
import { ExerciseReportSchema } from '../../../exercises/model.ts';
import type { StuckCheck } from '../protocol/workshop-state.ts';
import { distinctNames, type NamedLearner } from './results.ts';

/** A learner's latest verdict on one exercise, as the repository's tallies carry it. */
export interface LatestVerdict {
  learner: string;
  exercise: string;
  /** The stored report, as JSON. */
  lastReport: string;
}

/** An exercise of the workshop with its checks in order (earlier checks are the more basic ones). */
export interface ExerciseChecks {
  id: string;
  checks: ReadonlyArray<{ id: string; title: string }>;
}

const reportChecks = ExerciseReportSchema.pick({ checks: true });

/**
 * The checks this verdict fails on their own account. A check the runner did not run because an earlier one failed
 * is reported `fail` with `evidence.blockedBy`: it is not where the learner is stuck, the earlier one is. `error`
 * means the checker could not tell, which is never held against a learner.
 */
function failedChecks(lastReport: string): Array<{ id: string; title: string }> {
  let json: unknown;
  try {
    json = JSON.parse(lastReport);
  } catch {
    return []; // Not a report (nothing stored by this server writes one): it cannot say what fails.
  }
  const parsed = reportChecks.safeParse(json);
  if (!parsed.success) return [];
  return parsed.data.checks.filter((c) => c.status === 'fail' && c.evidence.blockedBy === undefined);
}

/**
 * For each exercise, the check the most learners fail right now, with who they are; null when nobody fails any.
 * Ties go to the check that comes first in the exercise, the one to explain first.
 */
export function mostStuck(
  exercises: readonly ExerciseChecks[],
  learners: readonly NamedLearner[],
  verdicts: readonly LatestVerdict[],
): Record<string, StuckCheck | null> {
  const names = distinctNames(learners);
  const joinOrder = new Map(learners.map((l, i) => [l.id, i] as const));
  const result: Record<string, StuckCheck | null> = {};
  for (const exercise of exercises) {
    const order = new Map(exercise.checks.map((c, i) => [c.id, i] as const));
    const failing = new Map<string, { title: string; learners: string[] }>();
    for (const verdict of verdicts) {
      if (verdict.exercise !== exercise.id || !joinOrder.has(verdict.learner)) continue;
      for (const check of failedChecks(verdict.lastReport)) {
        const entry = failing.get(check.id) ?? { title: check.title, learners: [] };
        entry.learners.push(verdict.learner);
        failing.set(check.id, entry);
      }
    }
    // A check since removed from the exercise sorts after the current ones.
    const rank = (id: string) => order.get(id) ?? exercise.checks.length;
    const [top] = [...failing.entries()].sort(
      ([a, x], [b, y]) => y.learners.length - x.learners.length || rank(a) - rank(b) || a.localeCompare(b),
    );
    if (!top) {
      result[exercise.id] = null;
      continue;
    }
    const [check, { title, learners: who }] = top;
    result[exercise.id] = {
      check,
      // The exercise's current wording when the check still exists; else what the stored verdict called it.
      title: exercise.checks.find((c) => c.id === check)?.title ?? title,
      learners: who
        .sort((a, b) => joinOrder.get(a)! - joinOrder.get(b)!)
        .map((id) => ({ id, name: names.get(id) ?? id })),
    };
  }
  return result;
}
