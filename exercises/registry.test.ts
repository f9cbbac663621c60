// The registry holds every exercise, with consistent folders: starter, solution, broken variants naming real checks.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifests } from './manifests.ts';
import { ExerciseSummarySchema } from './model.ts';
import { exerciseIds, exercises, getExercise, summarize } from './registry.ts';

const IDS = [
  'sidecar-restart',
  'first-sidecar',
  'logging-sidecar',
  'metrics-sidecar',
  'proxy-sidecar',
  'config-reload',
  'data-sync',
  'native-sidecar',
  'sidecar-budget',
  'sidecar-job',
  'readiness-probes',
  'proxy-outage',
  'sidecar-resources',
  'debug-commands',
];

/** Exercise ids as the course meets them: lessons by their frontmatter `order`, each lesson's `exercises` in turn. */
function exercisesInLessonOrder(): string[] {
  const lessonsDir = new URL('../lessons/', import.meta.url);
  return readdirSync(lessonsDir)
    .filter((name) => name.endsWith('.mdx'))
    .map((name) => {
      const source = readFileSync(new URL(name, lessonsDir), 'utf8');
      const order = Number(/^order:\s*(\d+)/m.exec(source)?.[1]);
      const ids = /^exercises:\s*\[([^\]]*)\]/m.exec(source)?.[1] ?? '';
      return {
        order,
        ids: ids
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      };
    })
    .sort((a, b) => a.order - b.order)
    .flatMap((lesson) => lesson.ids);
}

describe('registry', () => {
  it('has every exercise in course order, one per folder', () => {
    expect(exerciseIds).toEqual(IDS);
    const folders = readdirSync(new URL('.', import.meta.url), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'checks')
      .map((e) => e.name);
    expect(folders.sort()).toEqual([...IDS].sort());
    expect(getExercise('no-such-exercise')).toBeUndefined();
  });

  it('lists the exercises in the order the lessons use them (the workshop grid shows them so)', () => {
    const used = exercisesInLessonOrder();
    expect(used.length).toBeGreaterThan(0);
    expect(exerciseIds.filter((id) => used.includes(id))).toEqual(used);
  });

  it.each(IDS)('%s has a starter, a solution and at least three broken variants naming its checks', (id) => {
    const exercise = getExercise(id);
    if (!exercise) throw new Error(`missing ${id}`);
    expect(exercise.starter.length).toBeGreaterThan(0);
    expect(exercise.solution.length).toBeGreaterThan(0);
    expect(exercise.broken.length).toBeGreaterThanOrEqual(3);
    const checkIds = exercise.checks.map((c) => c.id);
    for (const variant of exercise.broken) expect(checkIds).toContain(variant.checkId);
    // Every manifest file is readable, and the objects the checks look for are named in the goal.
    for (const file of [...exercise.solution, ...exercise.setup]) {
      for (const doc of parseManifests(file.content, file.path).objects) {
        if (doc.object.kind === 'Pod' || doc.object.kind === 'Job')
          expect(exercise.goal).toContain(doc.object.metadata.name);
      }
    }
  });

  it('gives each exercise Pods and Jobs of its own: no other exercise and no lesson demo uses their names', () => {
    const workloads = (files: { path: string; content: string }[]) =>
      files.flatMap((file) =>
        parseManifests(file.content, file.path)
          .objects.filter((doc) => doc.object.kind === 'Pod' || doc.object.kind === 'Job')
          .map((doc) => doc.object.metadata.name),
      );
    const owner = new Map<string, string>();
    for (const exercise of exercises.values()) {
      for (const name of new Set(workloads([...exercise.solution, ...exercise.setup]))) {
        expect(owner.get(name), `${exercise.id} uses "${name}"`).toBeUndefined();
        owner.set(name, exercise.id);
      }
    }
    const manifests = new URL('../lessons/manifests/', import.meta.url);
    const demos = readdirSync(manifests)
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => ({ path: `lessons/manifests/${name}`, content: readFileSync(new URL(name, manifests), 'utf8') }));
    const shared = workloads(demos).filter((name) => owner.has(name));
    expect(shared, 'lesson demos named like an exercise').toEqual([]);
  });

  it('gives the site a summary without checks code, solution or broken variants', () => {
    for (const exercise of exercises.values()) {
      const summary = summarize(exercise);
      expect(ExerciseSummarySchema.parse(summary)).toEqual(summary);
      expect(JSON.stringify(summary)).not.toContain('solution/');
      expect(summary.checks.map((c) => c.id)).toEqual(exercise.checks.map((c) => c.id));
    }
    expect(summarize(getExercise('debug-commands') as never).answer?.prompt).toMatch(/code/);
  });
});
