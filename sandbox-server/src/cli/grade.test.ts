// The grade command's argument rules and report formats, without a cluster.
import { describe, expect, it } from 'vitest';
import type { ExerciseReport } from '../../../exercises/model.ts';
import {
  exitStatus,
  formatJson,
  formatJunit,
  formatText,
  type Graded,
  parseGradeArgs,
  planJobs,
  UsageError,
} from './grade.ts';

const usageError = (argv: string[]) => {
  try {
    parseGradeArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a usage error');
};

describe('parseGradeArgs', () => {
  it('accepts the documented forms', () => {
    expect(parseGradeArgs(['--exercise', 'first-sidecar', '--apply', 'dir'])).toMatchObject({
      exercise: 'first-sidecar',
      apply: 'dir',
      format: 'text',
    });
    expect(
      parseGradeArgs(['--exercise', 'debug-commands', '--namespace', 'sbx-1', '--format', 'json', '--answer', 'x']),
    ).toMatchObject({
      namespace: 'sbx-1',
      format: 'json',
      answer: 'x',
    });
    expect(parseGradeArgs(['--apply', 'all', '--settle-timeout', '30'])['settle-timeout']).toBe(30);
    expect(parseGradeArgs(['--help']).help).toBe(true);
  });

  it('refuses bad usage with a message naming the flag', () => {
    expect(usageError(['--exercise', 'nope', '--apply', 'x'])).toMatch(
      /--exercise: unknown exercise "nope" \(known: sidecar-restart, first-sidecar, /,
    );
    expect(usageError(['--exercise', 'first-sidecar'])).toMatch(/give --namespace NS or --apply PATH/);
    expect(usageError(['--exercise', 'first-sidecar', '--apply', 'x', '--namespace', 'y'])).toMatch(/not both/);
    expect(usageError(['--namespace', 'y'])).toMatch(/--namespace needs --exercise/);
    expect(usageError(['--exercise', 'first-sidecar', '--apply', 'x', '--format', 'xml'])).toMatch(/--format: /);
    expect(usageError(['--exercise', 'first-sidecar', '--namespace', 'Bad_NS'])).toMatch(/not a valid namespace name/);
    expect(usageError(['--frobnicate'])).toMatch(/Unknown option '--frobnicate'/);
    expect(usageError(['stray'])).toMatch(/positional/i);
  });

  it('reads manifests before touching a cluster, and wants exercise folders for a multi-exercise run', () => {
    expect(
      planJobs(parseGradeArgs(['--exercise', 'first-sidecar', '--apply', 'exercises/first-sidecar/solution'])),
    ).toHaveLength(1);
    expect(() => planJobs(parseGradeArgs(['--apply', 'exercises/first-sidecar/solution']))).toThrow(UsageError);
    expect(() => planJobs(parseGradeArgs(['--apply', 'exercises']))).toThrow(/unknown: checks/);
  });
});

const report = (statuses: Array<'pass' | 'fail' | 'error'>): ExerciseReport => ({
  exercise: 'first-sidecar',
  passed: statuses.every((s) => s === 'pass'),
  status: statuses.includes('error') ? 'error' : statuses.includes('fail') ? 'fail' : 'pass',
  startedAt: '2030-01-01T00:00:00.000Z',
  durationMs: 1234,
  checks: statuses.map((status, i) => ({
    id: `check-${i}`,
    title: `Check <${i}> & "more"`,
    status,
    message: status === 'pass' ? 'fine' : `broken <${i}>\u0007`,
    ...(status === 'fail' ? { hint: 'try harder' } : {}),
    evidence: { seen: i },
    durationMs: 10,
  })),
});
const graded = (statuses: Array<'pass' | 'fail' | 'error'>): Graded => ({
  report: report(statuses),
  namespace: 'ex-1',
  applyErrors: [],
  contained: [],
  settlePending: [],
});

describe('report formats', () => {
  it('JSON has the documented shape, evidence only on request', () => {
    const body = JSON.parse(formatJson([graded(['pass', 'fail'])]));
    expect(body).toMatchObject({ exercise: 'first-sidecar', passed: false, status: 'fail' });
    expect(body.checks[1]).toEqual({
      id: 'check-1',
      title: 'Check <1> & "more"',
      passed: false,
      status: 'fail',
      message: 'broken <1>\u0007',
      hint: 'try harder',
    });
    expect(JSON.parse(formatJson([graded(['pass'])], true)).checks[0].evidence).toEqual({ seen: 0 });
    const several = JSON.parse(formatJson([graded(['pass']), graded(['pass'])]));
    expect(several.passed).toBe(true);
    expect(several.exercises).toHaveLength(2);
  });

  it('JUnit escapes text, drops control characters, and tells failures from errors', () => {
    const xml = formatJunit([graded(['pass', 'fail', 'error'])]);
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="sidecar-lab grade" tests="3" failures="1" errors="1"/,
    );
    expect(xml).toContain('<testsuite name="first-sidecar" tests="3" failures="1" errors="1" skipped="0" time="1.234"');
    expect(xml).toContain('name="check-0: Check &lt;0&gt; &amp; &quot;more&quot;" time="0.010"/>');
    expect(xml).toContain('<failure message="broken &lt;1&gt;">broken &lt;1&gt;\nhint: try harder</failure>');
    expect(xml).toContain('<error message="broken &lt;2&gt;">');
    expect(xml).not.toContain('\u0007');
  });

  it('text names every check with its verdict', () => {
    const text = formatText([graded(['pass', 'fail'])]);
    expect(text).toContain('first-sidecar: FAIL (1/2 checks passed in 1.2 s, namespace ex-1)');
    expect(text).toContain('  FAIL  check-1: broken <1>');
    expect(text).toContain('hint: try harder');
  });

  it("text and JSON show what a controller could not create, with the API server's message", () => {
    const message = 'Error creating: pods "big-1" is forbidden: exceeded quota: sandbox-budget';
    const run = { ...graded(['pass']), contained: [{ object: 'ReplicaSet/big-1', message, count: 12 }] };
    expect(formatText([run])).toContain(`  contained: ReplicaSet/big-1 (12×): ${message}`);
    expect(JSON.parse(formatJson([run])).contained).toEqual([{ object: 'ReplicaSet/big-1', message, count: 12 }]);
    expect(JSON.parse(formatJson([graded(['pass'])]))).not.toHaveProperty('contained');
  });

  it('exits 0 on a pass, 1 on any failure, 3 when only undecided checks spoil it', () => {
    expect(exitStatus([graded(['pass'])])).toBe(0);
    expect(exitStatus([graded(['pass', 'fail', 'error'])])).toBe(1);
    expect(exitStatus([graded(['pass', 'error'])])).toBe(3);
  });
});
