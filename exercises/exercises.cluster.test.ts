// Every exercise against the real cluster: the starter fails, the reference (and accepted) solutions pass every check,
// and each broken variant fails first at the check its file name gives. One fresh namespace per case.
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckContext } from '../sandbox-server/src/cluster/check-context.ts';
import {
  deleteGradingNamespace,
  gradeInFreshNamespace,
  gradingCheckerUser,
} from '../sandbox-server/src/cluster/grading-namespace.ts';
import { loadKubeConfig } from '../sandbox-server/src/cluster/kubeconfig.ts';
import { parseManifests } from './manifests.ts';
import type { Exercise, ExerciseFile, ExerciseReport } from './model.ts';
import { exercises } from './registry.ts';
import { runExercise } from './runner.ts';

const kc = loadKubeConfig();
const timings: Array<{ exercise: string; file: string; totalMs: number; checkMs: number; settledCheckMs?: number }> =
  [];

/** The checks' verdicts in one line each, so a failing assertion shows what the checker said. */
const verdicts = (report: ExerciseReport) => report.checks.map((c) => `${c.status} ${c.id}: ${c.message}`);

async function grade(exercise: Exercise, file: ExerciseFile, opts: { recheck?: boolean } = {}) {
  const started = Date.now();
  const manifests = parseManifests(file.content, `exercises/${exercise.id}/${file.path}`);
  // A random answer is found by the exercise's trusted code: a solution's, or a broken variant's by its file name.
  const { referenceAnswer } = exercise;
  const broken = file.path.match(/^broken\/(.+)\.ya?ml$/)?.[1];
  const run = await gradeInFreshNamespace(kc, exercise, manifests, {
    keepNamespace: opts.recheck === true,
    ...(referenceAnswer && !file.path.startsWith('starter/')
      ? { findAnswer: (ctx) => referenceAnswer(ctx, broken) }
      : {}),
  });
  const timing: (typeof timings)[number] = {
    exercise: exercise.id,
    file: file.path,
    totalMs: Date.now() - started,
    checkMs: run.report.durationMs,
  };
  if (opts.recheck) {
    try {
      // Run the checks again on the now settled objects: what a learner pressing Check again would wait for.
      const ctx = createCheckContext(kc, run.namespace, {
        impersonate: gradingCheckerUser(run.namespace),
        ...(run.answer === undefined ? {} : { answer: run.answer }),
      });
      const again = await runExercise(exercise, ctx);
      timing.settledCheckMs = again.durationMs;
      expect(verdicts(again).filter((v) => !v.startsWith('pass'))).toEqual([]);
    } finally {
      await deleteGradingNamespace(kc, run.namespace);
    }
  }
  timings.push(timing);
  return run;
}

/**
 * Grades, and once more when the run could not decide (`error`: "press Check again", e.g. the kubelet updated a
 * mounted ConfigMap too late for config-reload to judge). An `error` is no verdict; a second one fails the test.
 */
async function gradeDecided(exercise: Exercise, file: ExerciseFile) {
  const run = await grade(exercise, file);
  if (run.report.status !== 'error') return run;
  console.log(`${exercise.id} ${file.path}: graded again after an undecided run:\n${verdicts(run.report).join('\n')}`);
  return grade(exercise, file);
}

afterAll(() => {
  const rows = timings
    .sort((a, b) => a.exercise.localeCompare(b.exercise) || a.file.localeCompare(b.file))
    .map(
      (t) =>
        `${t.exercise.padEnd(18)} ${t.file.padEnd(58)} total ${String(t.totalMs).padStart(6)} ms  checks ${String(t.checkMs).padStart(6)} ms${t.settledCheckMs === undefined ? '' : `  settled re-check ${t.settledCheckMs} ms`}`,
    );
  console.log(`exercise timings:\n${rows.join('\n')}`);
});

// Cases run side by side, each in its own namespace; vitest's maxConcurrency (5) caps how many at once, which two
// cores handle. Slow cases (Jobs, restarts) overlap with quick ones instead of holding up their exercise's group.
describe.concurrent('exercises', () => {
  for (const exercise of exercises.values()) {
    describe(exercise.id, () => {
      for (const file of exercise.starter) {
        it(`starter ${file.path} fails`, async () => {
          const { report } = await grade(exercise, file);
          expect(report.checks.filter((c) => c.status === 'error').map((c) => c.message)).toEqual([]);
          expect(report.status).toBe('fail');
        });
      }

      // An exercise whose check waits long (config-reload waits for the kubelet) gets that time twice over (the
      // reference solution is checked twice) on top of the usual bound.
      const slowest = Math.max(...exercise.checks.map((c) => c.timeoutMs));
      const options = slowest > 60_000 ? { timeout: 180_000 + 2 * slowest } : {};
      for (const file of [...exercise.solution, ...exercise.accepted]) {
        it(`${file.path} passes every check`, options, async () => {
          const { report, applied } = await grade(exercise, file, { recheck: file.path.startsWith('solution/') });
          expect(applied.filter((a) => a.error)).toEqual([]);
          expect(verdicts(report).filter((v) => !v.startsWith('pass'))).toEqual([]);
          expect(report.passed).toBe(true);
        });
      }

      for (const variant of exercise.broken) {
        it(`${variant.path} fails first at ${variant.checkId}`, options, async () => {
          const { report } = await gradeDecided(exercise, variant);
          const first = report.checks.find((c) => c.status !== 'pass');
          expect(report.checks.filter((c) => c.status === 'error').map((c) => c.message)).toEqual([]);
          expect({ id: first?.id, status: first?.status }, verdicts(report).join('\n')).toEqual({
            id: variant.checkId,
            status: 'fail',
          });
        });
      }
    });
  }
});
