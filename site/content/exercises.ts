// Build-time view of the exercises for <Check>: title, goal, hints and check titles from each definition, and the
// starter, solution and setup files from its folder. Runs only during the build; nothing here reaches the browser.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckDefinitionSchema, type ExerciseDefinitionInput } from '../../exercises/model.ts';

/** A check's deadline when it names none; checks that wait for something to happen ask for more (model.ts). */
const DEFAULT_CHECK_TIMEOUT_MS = CheckDefinitionSchema.shape.timeoutMs.parse(undefined);

/** A file of an exercise folder, by its name inside the folder. */
export interface ExerciseFileText {
  name: string;
  content: string;
}

/** What a lesson page shows about one exercise. */
export interface ExerciseForPage {
  id: string;
  title: string;
  goal: string;
  hints: string[];
  answer?: { prompt: string; placeholder?: string };
  /** `waits`: the check may wait for the objects to behave (its deadline is above the default), e.g. a log line. */
  checks: Array<{ id: string; title: string; waits: boolean }>;
  starter: ExerciseFileText[];
  solution: ExerciseFileText[];
  hasSetup: boolean;
  /** For exercises answered with text: the commands that reveal the answer (the definition's `answerSource`). */
  answerSource?: string;
}

const definitions = import.meta.glob<ExerciseDefinitionInput>('../../exercises/*/exercise.ts', {
  eager: true,
  import: 'default',
});

/** Folders are read relative to the project root: `astro build` runs there, and bundling moves this module. */
function folder(id: string, name: string): ExerciseFileText[] {
  const dir = join(process.cwd(), 'exercises', id, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => ({ name: basename(file), content: readFileSync(join(dir, file), 'utf8') }));
}

export function exerciseIds(): string[] {
  return Object.values(definitions)
    .map((d) => d.id)
    .sort();
}

/** The exercise with this id; fails the build, naming the id and where it was used, when there is none. */
export function exerciseForPage(id: string, usedIn: string): ExerciseForPage {
  const definition = Object.values(definitions).find((d) => d.id === id);
  if (!definition) {
    throw new Error(`${usedIn}: there is no exercise "${id}" (known: ${exerciseIds().join(', ')})`);
  }
  return {
    id,
    title: definition.title,
    goal: definition.goal,
    hints: [...definition.hints],
    ...(definition.answer ? { answer: definition.answer } : {}),
    checks: definition.checks.map((c) => ({
      id: c.id,
      title: c.title,
      waits: (c.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS) > DEFAULT_CHECK_TIMEOUT_MS,
    })),
    starter: folder(id, 'starter'),
    solution: folder(id, 'solution'),
    hasSetup: folder(id, 'setup').length > 0,
    ...(definition.answerSource ? { answerSource: definition.answerSource } : {}),
  };
}
