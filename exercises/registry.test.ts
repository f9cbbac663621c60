// The registry holds the exercises with consistent folders: starter, solution, broken variants naming real checks.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifests } from './manifests.ts';
import { ExerciseSummarySchema } from './model.ts';
import { exerciseIds, exercises, getExercise, summarize } from './registry.ts';

const IDS = [
  'first-sidecar',
  'logging-sidecar',
  'proxy-sidecar',
  'readiness-probes',
  'native-sidecar',
  'sidecar-job',
  'sidecar-restart',
  'sidecar-resources',
  'debug-commands',
  'config-reload',
  'data-sync',
];

describe('registry', () => {
  it('has the exercises in course order, one per folder', () => {
    expect(exerciseIds).toEqual(IDS);
    const folders = readdirSync(new URL('.', import.meta.url), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'checks')
      .map((e) => e.name);
    expect(folders.sort()).toEqual([...IDS].sort());
    expect(getExercise('no-such-exercise')).toBeUndefined();
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
