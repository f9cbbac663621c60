// Every lesson tests itself: in a fresh sandbox of its own, made through the real server, the self-test writes each
// <CreateFile> into the toolbox's home folder and runs each <Run> in the toolbox's shell, in page order, as the
// learner would, and holds each command to what the page promises (`expect`, `fails`, `within`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../sandbox-server/src/server.ts';
import { deleteInstanceNamespaces, startTestServer, testInstance } from '../../sandbox-server/test/harness.ts';
import { limiter, newSandbox, playLesson, readLessons } from '../support/lesson-player.ts';

/** Lessons run side by side, each in its own sandbox, but no more than this many at once (2 cores, shared). */
const PARALLEL_LESSONS = 3;

const lessons = readLessons();

let server: RunningServer;
const instance = testInstance();
const namespaces: string[] = [];
const tally = { commands: 0, promises: 0, skipped: [] as string[] };

beforeAll(async () => {
  ({ server } = await startTestServer({ SIDECAR_LAB_INSTANCE: instance, SIDECAR_LAB_SANDBOX_TTL_MINUTES: '30' }));
});

afterAll(async () => {
  await server?.close();
  await deleteInstanceNamespaces(instance, namespaces);
  console.log(
    `lesson self-test: ${tally.commands} commands run, ${tally.promises} promises checked, ` +
      `${tally.skipped.length} commands skipped with a reason:\n  ${tally.skipped.join('\n  ')}`,
  );
});

const turn = limiter(PARALLEL_LESSONS);

describe('lessons test themselves', () => {
  it('every lesson has commands to run', () => {
    expect(lessons.length).toBeGreaterThanOrEqual(13);
    for (const lesson of lessons) expect(lesson.steps.length, lesson.name).toBeGreaterThan(0);
  });

  for (const lesson of lessons) {
    it.concurrent(`${lesson.name}: every command runs and keeps its promise`, { timeout: 1_200_000 }, () =>
      turn(async () =>
        playLesson(await newSandbox(server.url, namespaces), lesson, {
          skipped: (step) => tally.skipped.push(`${lesson.name}: ${step.command} (${step.selfTest})`),
          ran: (step) => {
            tally.commands++;
            if (step.expect || step.fails) tally.promises++;
          },
        }),
      ),
    );
  }
});
