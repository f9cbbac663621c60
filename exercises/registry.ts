// Every exercise by id: its definition and checks, plus the files of its folder (starter, solution, setup, broken).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import configReload from './config-reload/exercise.ts';
import dataSync from './data-sync/exercise.ts';
import debugCommands from './debug-commands/exercise.ts';
import firstSidecar from './first-sidecar/exercise.ts';
import loggingSidecar from './logging-sidecar/exercise.ts';
import { parseManifests } from './manifests.ts';
import metricsSidecar from './metrics-sidecar/exercise.ts';
import {
  type BrokenVariant,
  type Exercise,
  type ExerciseDefinitionInput,
  type ExerciseFile,
  ExerciseSchema,
  type ExerciseSummary,
} from './model.ts';
import nativeSidecar from './native-sidecar/exercise.ts';
import proxyOutage from './proxy-outage/exercise.ts';
import proxySidecar from './proxy-sidecar/exercise.ts';
import readinessProbes from './readiness-probes/exercise.ts';
import sidecarBudget from './sidecar-budget/exercise.ts';
import sidecarJob from './sidecar-job/exercise.ts';
import sidecarResources from './sidecar-resources/exercise.ts';
import sidecarRestart from './sidecar-restart/exercise.ts';

/** In course order: by the lesson that holds each, as lessons are ordered (registry.test.ts holds it to that). */
const DEFINITIONS: readonly ExerciseDefinitionInput[] = [
  sidecarRestart,
  firstSidecar,
  loggingSidecar,
  metricsSidecar,
  proxySidecar,
  configReload,
  dataSync,
  nativeSidecar,
  sidecarBudget,
  sidecarJob,
  readinessProbes,
  proxyOutage,
  sidecarResources,
  debugCommands,
];

const MANIFEST = /\.(ya?ml|json)$/i;
const BROKEN_NAME = /^([a-z0-9]+(?:-[a-z0-9]+)*)(?:--([a-z0-9-]+))?\.ya?ml$/;

/** The manifest files in `exercises/<id>/<folder>/`, sorted by name; none when the folder does not exist. */
function readFolder(id: string, folder: string): ExerciseFile[] {
  const dir = fileURLToPath(new URL(`./${id}/${folder}/`, import.meta.url));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => MANIFEST.test(name))
    .sort()
    .map((name) => ({ path: `${folder}/${name}`, content: readFileSync(`${dir}${name}`, 'utf8') }));
}

function readBroken(id: string): BrokenVariant[] {
  return readFolder(id, 'broken').map((file) => {
    const name = file.path.slice('broken/'.length);
    const match = BROKEN_NAME.exec(name);
    if (!match?.[1]) {
      throw new Error(`exercises/${id}/${file.path}: name it <failing-check-id>[--<variant>].yaml`);
    }
    return { ...file, checkId: match[1], ...(match[2] ? { variant: match[2] } : {}) };
  });
}

/** Loads one exercise and verifies its folder: every file parses, every broken variant names a real check. */
function load(definition: ExerciseDefinitionInput): Exercise {
  const id = definition.id;
  const exercise = ExerciseSchema.parse({
    ...definition,
    starter: readFolder(id, 'starter'),
    solution: readFolder(id, 'solution'),
    setup: readFolder(id, 'setup'),
    broken: readBroken(id),
    accepted: readFolder(id, 'accepted'),
  });
  const checkIds = new Set(exercise.checks.map((c) => c.id));
  for (const variant of exercise.broken) {
    if (!checkIds.has(variant.checkId)) {
      throw new Error(`exercises/${id}/${variant.path}: "${variant.checkId}" is not a check of ${id}`);
    }
  }
  const files = [
    ...exercise.starter,
    ...exercise.solution,
    ...exercise.setup,
    ...exercise.broken,
    ...exercise.accepted,
  ];
  for (const file of files) parseManifests(file.content, `exercises/${id}/${file.path}`);
  return exercise;
}

/** All exercises by id, in course order. Loading fails loudly if an exercise folder is inconsistent. */
export const exercises: ReadonlyMap<string, Exercise> = new Map(
  DEFINITIONS.map((d) => {
    const exercise = load(d);
    return [exercise.id, exercise] as const;
  }),
);

/** The exercise with this id, or undefined. */
export function getExercise(id: string): Exercise | undefined {
  return exercises.get(id);
}

/** Exercise ids in course order. */
export const exerciseIds: readonly string[] = [...exercises.keys()];

/** What the site may show: no check code, no solution, no broken variants. */
export function summarize(exercise: Exercise): ExerciseSummary {
  return {
    id: exercise.id,
    title: exercise.title,
    goal: exercise.goal,
    hints: exercise.hints,
    ...(exercise.answer ? { answer: exercise.answer } : {}),
    starter: exercise.starter,
    checks: exercise.checks.map((c) => ({ id: c.id, title: c.title })),
  };
}
