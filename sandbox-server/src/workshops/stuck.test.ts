// The "most stuck" row from verdicts stored in a real (in-memory) SQLite database, as the grid computes it.
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, ExerciseReport } from '../../../exercises/model.ts';
import type { Repository } from '../store/repository.ts';
import { SqliteRepository } from '../store/sqlite.ts';
import { mostStuck } from './stuck.ts';

const WORKSHOP = '0123456789abcdef';
const CHECKS = [
  { id: 'pod-exists', title: 'Pod "web" exists' },
  { id: 'sidecar-container', title: 'The Pod has a sidecar' },
  { id: 'sidecar-logs', title: 'The sidecar logs the line' },
];
const EXERCISES = [
  { id: 'first-sidecar', checks: CHECKS },
  { id: 'logging-sidecar', checks: [{ id: 'pod-exists', title: 'Pod "app" exists' }] },
];

let repo: Repository;
afterEach(() => repo.close());

/** A stored report in which each check has the given status; `blocked` ones were not run after an earlier failure. */
function report(statuses: Record<string, CheckResult['status'] | 'blocked'>): string {
  const checks: CheckResult[] = Object.entries(statuses).map(([id, status]) => ({
    id,
    title: `${id} as stored`,
    status: status === 'blocked' ? 'fail' : status,
    message: '…',
    evidence: status === 'blocked' ? { blockedBy: 'pod-exists' } : {},
    durationMs: 1,
  }));
  const overall = checks.some((c) => c.status === 'error') ? 'error' : checks.some((c) => c.status === 'fail');
  const value: ExerciseReport = {
    exercise: 'first-sidecar',
    passed: overall === false,
    status: overall === 'error' ? 'error' : overall ? 'fail' : 'pass',
    checks,
    startedAt: new Date().toISOString(),
    durationMs: 3,
  };
  return JSON.stringify(value);
}

async function room(names: string[]) {
  repo = new SqliteRepository(':memory:');
  await repo.createWorkshop({
    id: WORKSHOP,
    name: 'W',
    code: 'ABCD0123WXYZ',
    tokenHash: 'f'.repeat(64),
    capacity: 10,
    exercises: EXERCISES.map((e) => e.id),
    createdAt: '2026-01-01T10:00:00.000Z',
    endsAt: '2099-01-01T12:00:00.000Z',
  });
  const joinedAt = new Date(Date.now() - 1000).toISOString();
  for (const [i, name] of names.entries()) {
    const id = String(i).padStart(16, '0');
    await repo.joinWorkshop({ id, workshop: WORKSHOP, session: `s-${name}`, name, joinedAt }, 10);
  }
  const check = async (name: string, exercise: string, statuses: Parameters<typeof report>[0], trigger?: 'auto') => {
    const status = Object.values(statuses).some((s) => s !== 'pass') ? 'fail' : 'pass';
    await repo.recordCheck({ session: `s-${name}`, sandbox: 'x', exercise, status, report: report(statuses), trigger });
  };
  const stuck = async () => mostStuck(EXERCISES, await repo.learners(WORKSHOP), await repo.workshopTallies(WORKSHOP));
  return { check, stuck };
}

describe('where the room is stuck', () => {
  it('is the check most learners fail in their latest verdict, with who, in join order', async () => {
    const { check, stuck } = await room(['Ana', 'Bo', 'Cy', 'Di', 'Ed']);
    // Ana failed the sidecar check before, but her latest verdict (an automatic re-check) passes everything.
    await check('Ana', 'first-sidecar', {
      'pod-exists': 'pass',
      'sidecar-container': 'fail',
      'sidecar-logs': 'blocked',
    });
    await check(
      'Ana',
      'first-sidecar',
      { 'pod-exists': 'pass', 'sidecar-container': 'pass', 'sidecar-logs': 'pass' },
      'auto',
    );
    // Bo has no Pod: the later checks are only blocked, they do not count against him.
    await check('Bo', 'first-sidecar', {
      'pod-exists': 'fail',
      'sidecar-container': 'blocked',
      'sidecar-logs': 'blocked',
    });
    await check('Di', 'first-sidecar', { 'pod-exists': 'pass', 'sidecar-container': 'pass', 'sidecar-logs': 'fail' });
    await check('Cy', 'first-sidecar', { 'pod-exists': 'pass', 'sidecar-container': 'fail', 'sidecar-logs': 'fail' });
    // Ed's latest verdict counts, not his earlier one; an `error` (the checker could not tell) is never held against him.
    await check('Ed', 'first-sidecar', {
      'pod-exists': 'fail',
      'sidecar-container': 'blocked',
      'sidecar-logs': 'blocked',
    });
    await check(
      'Ed',
      'first-sidecar',
      { 'pod-exists': 'pass', 'sidecar-container': 'error', 'sidecar-logs': 'fail' },
      'auto',
    );

    expect(await stuck()).toEqual({
      'first-sidecar': {
        check: 'sidecar-logs',
        title: 'The sidecar logs the line',
        learners: [
          { id: '0000000000000002', name: 'Cy' },
          { id: '0000000000000003', name: 'Di' },
          { id: '0000000000000004', name: 'Ed' },
        ],
      },
      'logging-sidecar': null,
    });
  });

  it('goes to the earlier check on a tie, and follows learners as they move on', async () => {
    const { check, stuck } = await room(['Ana', 'Bo']);
    await check('Ana', 'first-sidecar', { 'pod-exists': 'pass', 'sidecar-container': 'pass', 'sidecar-logs': 'fail' });
    await check('Bo', 'first-sidecar', {
      'pod-exists': 'fail',
      'sidecar-container': 'blocked',
      'sidecar-logs': 'blocked',
    });
    expect((await stuck())['first-sidecar']).toMatchObject({ check: 'pod-exists', learners: [{ name: 'Bo' }] });

    await check(
      'Bo',
      'first-sidecar',
      { 'pod-exists': 'pass', 'sidecar-container': 'pass', 'sidecar-logs': 'fail' },
      'auto',
    );
    expect((await stuck())['first-sidecar']).toMatchObject({
      check: 'sidecar-logs',
      learners: [{ name: 'Ana' }, { name: 'Bo' }],
    });

    await check('Ana', 'first-sidecar', { 'pod-exists': 'pass', 'sidecar-container': 'pass', 'sidecar-logs': 'pass' });
    await check('Bo', 'first-sidecar', { 'pod-exists': 'pass', 'sidecar-container': 'pass', 'sidecar-logs': 'pass' });
    expect((await stuck())['first-sidecar']).toBeNull();
  });

  it('names a check the exercise no longer has by its stored title, after the current ones', async () => {
    const { check, stuck } = await room(['Ana', 'Bo']);
    await check('Ana', 'logging-sidecar', { 'pod-exists': 'pass', 'old-check': 'fail' });
    expect((await stuck())['logging-sidecar']).toEqual({
      check: 'old-check',
      title: 'old-check as stored',
      learners: [{ id: '0000000000000000', name: 'Ana' }],
    });
    await check('Bo', 'logging-sidecar', { 'pod-exists': 'fail', 'old-check': 'blocked' });
    expect((await stuck())['logging-sidecar']).toMatchObject({ check: 'pod-exists', title: 'Pod "app" exists' });
  });
});
