// The mutation command's pure parts: arguments, verdicts from reports, the table and the exit decision.
import { describe, expect, it } from 'vitest';
import type { CheckResult, ExerciseReport } from '../../../exercises/model.ts';
import { UsageError } from './grade.ts';
import {
  allKilled,
  classify,
  type ExerciseMutation,
  formatReport,
  type MutantResult,
  parseMutateArgs,
  type Verdict,
} from './mutate.ts';

const check = (id: string, status: CheckResult['status'], message = `${id} ${status}`): CheckResult => ({
  id,
  title: id,
  status,
  message,
  evidence: {},
  durationMs: 1,
});
const report = (...checks: CheckResult[]): ExerciseReport => ({
  exercise: 'demo',
  passed: checks.every((c) => c.status === 'pass'),
  status: checks.some((c) => c.status === 'error')
    ? 'error'
    : checks.some((c) => c.status === 'fail')
      ? 'fail'
      : 'pass',
  checks,
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
});

describe('parseMutateArgs', () => {
  it('takes --only, --concurrency and --out', () => {
    expect(parseMutateArgs([])).toEqual({ only: [], everySolution: false, concurrency: 4, help: false });
    expect(
      parseMutateArgs(['--only', 'first-sidecar, sidecar-job', '--concurrency', '2', '--out', '/tmp/m.json']),
    ).toEqual({
      only: ['first-sidecar', 'sidecar-job'],
      everySolution: false,
      concurrency: 2,
      out: '/tmp/m.json',
      help: false,
    });
    expect(parseMutateArgs(['--every-solution']).everySolution).toBe(true);
    expect(parseMutateArgs(['--help']).help).toBe(true);
  });

  it.each([
    [['--fast'], /'--fast'/],
    [['--only', 'first-sidecar,nope'], /unknown exercise "nope"/],
    [['--only', ''], /at least one exercise/],
    [['--concurrency', '0'], /--concurrency: "0"/],
    [['--concurrency', 'many'], /--concurrency: "many"/],
    [['extra'], /extra/],
  ])('refuses %j, naming what is wrong', (argv, message) => {
    expect(() => parseMutateArgs(argv)).toThrow(UsageError);
    expect(() => parseMutateArgs(argv)).toThrow(message);
  });
});

describe('classify', () => {
  it('a failing check kills the mutant; the first one is named', () => {
    expect(classify(report(check('a', 'pass'), check('b', 'fail', 'no'), check('c', 'fail')))).toEqual({
      kind: 'killed',
      check: 'b',
      message: 'no',
    });
  });

  it('a failure decides even when another check could not be decided', () => {
    expect(classify(report(check('a', 'error'), check('b', 'fail'))).kind).toBe('killed');
  });

  it('every check passing: survived, or equivalent when declared', () => {
    expect(classify(report(check('a', 'pass')))).toEqual({ kind: 'survived' });
    expect(classify(report(check('a', 'pass')), 'names are free')).toEqual({
      kind: 'equivalent',
      why: 'names are free',
    });
  });

  it('a declared equivalent that fails a check is flagged, not counted as killed', () => {
    expect(classify(report(check('a', 'fail', 'too strict')), 'names are free')).toEqual({
      kind: 'equivalent-failed',
      why: 'names are free',
      check: 'a',
      message: 'too strict',
    });
  });

  it('errors without a failure are undecided', () => {
    expect(classify(report(check('a', 'pass'), check('b', 'error', 'timeout')))).toEqual({
      kind: 'undecided',
      check: 'b',
      message: 'timeout',
    });
  });
});

const result = (id: string, verdict: Verdict): MutantResult => ({
  id,
  operator: id.split(':')[0] ?? id,
  source: 'solution/pod.yaml',
  description: `${id} changed`,
  verdict,
  refused: [],
  durationMs: 1000,
});
const exercise = (name: string, results: MutantResult[], extra: Partial<ExerciseMutation> = {}): ExerciseMutation => ({
  exercise: name,
  baseline: [{ source: 'solution/pod.yaml', passed: true }],
  results,
  duplicates: [],
  staleEquivalents: [],
  ...extra,
});

describe('formatReport and allKilled', () => {
  const killed = result('drop-container:proxy', { kind: 'killed', check: 'containers-present', message: 'gone' });
  const equivalent = result('rename:agent', { kind: 'equivalent', why: 'any name' });
  const survivor = result('swap-image:proxy', { kind: 'survived' });

  it('prints one row per exercise, totals, and each survivor with its id', () => {
    const text = formatReport(
      [exercise('proxy-sidecar', [killed, survivor]), exercise('sidecar-resources', [equivalent, killed])],
      61_000,
    );
    expect(text).toContain('| exercise          | mutants | killed | equivalent | survived | undecided |');
    expect(text).toContain('| proxy-sidecar     |       2 |      1 |          0 |        1 |         0 |');
    expect(text).toContain('| sidecar-resources |       2 |      1 |          1 |        0 |         0 |');
    expect(text).toContain('| total             |       4 |      2 |          1 |        1 |         0 |');
    expect(text).toMatch(
      /Survivors \(every check passed\):\n {2}proxy-sidecar {2}swap-image:proxy {2}— swap-image:proxy changed/,
    );
    expect(text).toContain(
      'Killed by (check: mutants):\n  proxy-sidecar: containers-present 1\n  sidecar-resources: containers-present 1',
    );
    expect(text).toContain('in 61 s; not graded again: 0 identical');
  });

  it('passes only when every mutant is killed or a passing declared equivalent, and every solution passes', () => {
    expect(allKilled([exercise('a', [killed, equivalent])])).toBe(true);
    expect(allKilled([exercise('a', [killed, survivor])])).toBe(false);
    const tooStrict = result('rename:agent', { kind: 'equivalent-failed', why: 'x', check: 'c', message: 'm' });
    expect(allKilled([exercise('a', [tooStrict])])).toBe(false);
    expect(allKilled([exercise('a', [result('x:y', { kind: 'undecided', check: 'c', message: 'm' })])])).toBe(false);
    expect(
      allKilled([exercise('a', [killed], { baseline: [{ source: 's', passed: false, check: 'c', message: 'm' }] })]),
    ).toBe(false);
    expect(allKilled([exercise('a', [killed], { staleEquivalents: ['rename:gone'] })])).toBe(false);
    // A solution that passed on its second grading counts as passing, and the report says what the first one saw.
    const secondTime = { source: 's', passed: true, firstFailure: { check: 'c', message: 'timed out' } };
    expect(allKilled([exercise('a', [killed], { baseline: [secondTime] })])).toBe(true);
    expect(formatReport([exercise('a', [killed], { baseline: [secondTime] })], 0)).toContain(
      'Solutions that passed only when graded a second time (the first grading failed):\n  a  s  — c: timed out',
    );
    expect(formatReport([exercise('a', [killed], { staleEquivalents: ['rename:gone'] })], 0)).toContain(
      'Stale equivalentMutants declarations (no such mutant is generated):\n  a  rename:gone',
    );
  });
});
