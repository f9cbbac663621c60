// Plays a lesson as the learner would, in a sandbox made through the real server: writes each <CreateFile> into the
// toolbox's home folder and runs each <Run> in the toolbox's login shell, in page order, holding each command to what
// the page promises. Shared by the lessons' self-test and the test that no page solves its own exercise.
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Learner } from '../../sandbox-server/test/harness.ts';
import { expectationMatcher } from '../../site/content/run-self-test.ts';
import { kubectlRaw, waitFor } from './kubectl.ts';
import { type LessonStep, lessonSteps } from './lesson-script.ts';

/** How long one command may run when the page gives no `within`. */
const COMMAND_TIMEOUT_MS = 150_000;

export interface Lesson {
  /** The file name without `.mdx`, e.g. `logging-sidecar`. */
  name: string;
  steps: LessonStep[];
}

export interface Sandbox {
  learner: Learner;
  id: string;
  namespace: string;
}

type RunStep = Extract<LessonStep, { kind: 'run' }>;
type CheckStep = Extract<LessonStep, { kind: 'check' }>;

/** What the caller wants to hear about while a lesson plays; a `check` hook is awaited before the page goes on. */
export interface PlayHooks {
  skipped?: (step: RunStep) => void;
  ran?: (step: RunStep) => void;
  check?: (step: CheckStep) => Promise<void>;
}

/** Every lesson under `lessons/`, by file name. */
export function readLessons(): Lesson[] {
  return readdirSync('lessons')
    .filter((name) => name.endsWith('.mdx'))
    .sort()
    .map((name) => {
      const file = `lessons/${name}`;
      return { name: name.replace(/\.mdx$/, ''), steps: lessonSteps(readFileSync(file, 'utf8'), file) };
    });
}

/** A learner with a fresh sandbox whose shell is ready; its namespace is pushed onto `namespaces` for clean-up. */
export async function newSandbox(serverUrl: string, namespaces: string[]): Promise<Sandbox> {
  const learner = new Learner(serverUrl);
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
async function runStep(lesson: string, namespace: string, step: RunStep) {
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

/** Plays one lesson from top to bottom in `sandbox`. */
export async function playLesson(sandbox: Sandbox, lesson: Lesson, hooks: PlayHooks = {}): Promise<void> {
  const { learner, id, namespace } = sandbox;
  for (const step of lesson.steps) {
    if (step.kind === 'file') {
      const written = await learner.request('POST', `/api/sandboxes/${id}/files`, {
        path: step.path,
        content: step.content,
      });
      expect(written.status, `lessons/${lesson.name}.mdx: writing ${step.path}`).toBe(204);
    } else if (step.kind === 'check') {
      await hooks.check?.(step);
    } else if (step.selfTest) {
      hooks.skipped?.(step);
    } else {
      await runStep(lesson.name, namespace, step);
      hooks.ran?.(step);
    }
  }
}

/** Lets at most `limit` pieces of work run at once; the rest wait their turn. */
export function limiter(limit: number) {
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
