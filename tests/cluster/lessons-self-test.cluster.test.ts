// Every lesson tests itself: in a fresh sandbox of its own, made through the real server, the self-test writes each
// <CreateFile> into the toolbox's home folder and runs each <Run> in the toolbox's shell, in page order, as the
// learner would, and holds each command to what the page promises (`expect`, `fails`, `within`).
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../sandbox-server/src/server.ts';
import { deleteInstanceNamespaces, Learner, startTestServer, testInstance } from '../../sandbox-server/test/harness.ts';
import { expectationMatcher } from '../../site/content/run-self-test.ts';
import { kubectlRaw, waitFor } from '../support/kubectl.ts';
import { type LessonStep, lessonSteps } from '../support/lesson-script.ts';

/** Lessons run side by side, each in its own sandbox, but no more than this many at once (2 cores, shared). */
const PARALLEL_LESSONS = 3;
/** How long one command may run when the page gives no `within`. */
const COMMAND_TIMEOUT_MS = 150_000;

const lessons = readdirSync('lessons')
  .filter((name) => name.endsWith('.mdx'))
  .sort()
  .map((name) => {
    const file = `lessons/${name}`;
    return { name: name.replace(/\.mdx$/, ''), steps: lessonSteps(readFileSync(file, 'utf8'), file) };
  });

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

/** A learner with a fresh sandbox whose shell is ready. */
async function newSandbox(): Promise<{ learner: Learner; id: string; namespace: string }> {
  const learner = new Learner(server.url);
  const created = await learner.request('POST', '/api/sandboxes', {});
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const { id, namespace } = created.json as { id: string; namespace: string };
  namespaces.push(namespace);
  await waitFor(
    `sandbox ${id} to be ready`,
    async () => (await learner.request('GET', `/api/sandboxes/${id}`)).json.status === 'ready',
  );
  return { learner, id, namespace };
}

/** Runs one line in the toolbox's login shell from the home folder, as the terminal's tmux session does. */
async function runInToolbox(namespace: string, command: string, timeoutMs: number) {
  const script = `cd ~ && ${command}`;
  const result = await kubectlRaw(
    ['-n', namespace, 'exec', 'toolbox', '-c', 'shell', '--', 'bash', '-lc', script],
    undefined,
    timeoutMs,
  );
  return { code: result.code, output: `${result.stdout}${result.stderr}` };
}

/** Runs one <Run> until it keeps its promise, or throws saying which line of which lesson broke it and how. */
async function runStep(lesson: string, namespace: string, step: Extract<LessonStep, { kind: 'run' }>) {
  const where = `lessons/${lesson}.mdx:${step.line} \`${step.command}\``;
  const matches = step.expect ? expectationMatcher(step.expect) : () => true;
  const deadline = Date.now() + (step.within ?? 0) * 1000;
  for (;;) {
    const { code, output } = await runInToolbox(namespace, step.command, COMMAND_TIMEOUT_MS);
    const exitOk = step.fails ? code !== 0 : code === 0;
    if (exitOk && matches(output)) return;
    if (Date.now() >= deadline) {
      const wanted = [step.fails ? 'a non-zero exit' : 'exit 0', step.expect && `output with ${step.expect}`];
      throw new Error(
        `${where} broke its promise (${wanted.filter(Boolean).join(' and ')}${step.within ? ` within ${step.within} s` : ''}): exit ${code}, output:\n${output.slice(-1500)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

/** Plays one lesson from top to bottom in a sandbox of its own. */
async function playLesson(lesson: (typeof lessons)[number]) {
  const { learner, id, namespace } = await newSandbox();
  for (const step of lesson.steps) {
    if (step.kind === 'file') {
      const written = await learner.request('POST', `/api/sandboxes/${id}/files`, {
        path: step.path,
        content: step.content,
      });
      expect(written.status, `lessons/${lesson.name}.mdx: writing ${step.path}`).toBe(204);
      continue;
    }
    if (step.selfTest) {
      tally.skipped.push(`${lesson.name}: ${step.command} (${step.selfTest})`);
      continue;
    }
    await runStep(lesson.name, namespace, step);
    tally.commands++;
    if (step.expect || step.fails) tally.promises++;
  }
}

/** Lets at most `limit` lessons hold a sandbox at once; the rest wait their turn. */
function limiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
const turn = limiter(PARALLEL_LESSONS);

describe('lessons test themselves', () => {
  it('every lesson has commands to run', () => {
    expect(lessons.length).toBeGreaterThanOrEqual(13);
    for (const lesson of lessons) expect(lesson.steps.length, lesson.name).toBeGreaterThan(0);
  });

  for (const lesson of lessons) {
    it.concurrent(`${lesson.name}: every command runs and keeps its promise`, { timeout: 1_200_000 }, () =>
      turn(() => playLesson(lesson)),
    );
  }
});
