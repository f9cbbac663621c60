// No page solves its own exercise: a lesson demonstrates on one Pod and its exercise asks for another, built from the
// exercise's starter. For every lesson with an exercise, in a fresh sandbox made through the real server, the lesson's
// commands run as in its self-test; where the page shows an exercise, and again after the last command, the learner
// presses Check (the same request the page sends), after pressing its "Prepare" button when the exercise has set-up
// objects. Not one of those verdicts may pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exerciseIds, getExercise } from '../../exercises/registry.ts';
import type { RunningServer } from '../../sandbox-server/src/server.ts';
import { deleteInstanceNamespaces, startTestServer, testInstance } from '../../sandbox-server/test/harness.ts';
import { limiter, newSandbox, playLesson, readLessons, type Sandbox } from '../support/lesson-player.ts';

/** As in the self-test: lessons side by side, each in its own sandbox, no more than this many at once. */
const PARALLEL_LESSONS = 3;

const lessons = readLessons()
  .map((lesson) => ({
    ...lesson,
    exercises: [...new Set(lesson.steps.flatMap((s) => (s.kind === 'check' ? [s.exercise] : [])))],
  }))
  .filter((lesson) => lesson.exercises.length > 0);

let server: RunningServer;
const instance = testInstance();
const namespaces: string[] = [];

beforeAll(async () => {
  ({ server } = await startTestServer({ SIDECAR_LAB_INSTANCE: instance, SIDECAR_LAB_SANDBOX_TTL_MINUTES: '30' }));
});

afterAll(async () => {
  await server?.close();
  await deleteInstanceNamespaces(instance, namespaces);
});

interface Verdict {
  exercise: string;
  when: string;
  status: string;
  failing: string[];
  /** What the checks that could not decide said, so a verdict of `error` explains itself. */
  undecided: string[];
}

/** Exercises already prepared, per sandbox: the page's "Prepare" button, pressed once before the first Check. */
const prepared = new Map<string, Set<string>>();

/** Presses Check for `exercise` as the page does, and keeps what the checker said. */
async function check(sandbox: Sandbox, exercise: string, when: string): Promise<Verdict> {
  const done = prepared.get(sandbox.id) ?? new Set<string>();
  prepared.set(sandbox.id, done);
  if (!done.has(exercise) && getExercise(exercise)?.setup.length) {
    const setup = await sandbox.learner.request('POST', `/api/sandboxes/${sandbox.id}/exercises/${exercise}/setup`, {});
    expect(setup.status, JSON.stringify(setup.json)).toBe(204);
    done.add(exercise);
  }
  const report = await sandbox.learner.request('POST', `/api/sandboxes/${sandbox.id}/checks/${exercise}`, {});
  expect(report.status, JSON.stringify(report.json)).toBe(200);
  const checks = report.json.checks as Array<{ id: string; status: string; message?: string }>;
  return {
    exercise,
    when,
    status: report.json.status as string,
    failing: checks.filter((c) => c.status === 'fail').map((c) => c.id),
    undecided: checks.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.message ?? ''}`),
  };
}

const turn = limiter(PARALLEL_LESSONS);

describe('no page solves its own exercise with its Run buttons', () => {
  it('every exercise is shown by a lesson, so every exercise is covered below', () => {
    const shown = new Set(lessons.flatMap((lesson) => lesson.exercises));
    expect(exerciseIds.filter((id) => !shown.has(id))).toEqual([]);
  });

  for (const lesson of lessons) {
    it.concurrent(
      `${lesson.name}: the page's commands leave ${lesson.exercises.join(' and ')} unsolved`,
      { timeout: 1_200_000 },
      () =>
        turn(async () => {
          const sandbox = await newSandbox(server.url, namespaces);
          const verdicts: Verdict[] = [];
          await playLesson(sandbox, lesson, {
            check: async (step) => {
              verdicts.push(await check(sandbox, step.exercise, `where the page shows it (line ${step.line})`));
            },
          });
          for (const exercise of lesson.exercises) {
            verdicts.push(await check(sandbox, exercise, 'after the last command'));
          }
          // A verdict that passes is the page solving its exercise; one that is only undecided (`error`) proves
          // nothing, so each must have a check that really failed.
          const solved = verdicts.filter((v) => v.status === 'pass' || v.failing.length === 0);
          expect(solved, JSON.stringify(verdicts, null, 2)).toEqual([]);
          console.log(
            `${lesson.name}: ${verdicts.map((v) => `${v.exercise} ${v.when}: ${v.status} (first failing: ${v.failing[0]})`).join('; ')}`,
          );
        }),
    );
  }
});
