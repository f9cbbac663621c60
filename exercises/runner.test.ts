// The runner's rules: order, requirements, deadlines, and errors that are never reported as a learner's failure.
import { describe, expect, it } from 'vitest';
import { fail, pass } from './checks/common.ts';
import { makeCheckContext } from './context.ts';
import { ClusterUnavailableError } from './errors.ts';
import { type CheckContext, type CheckDefinitionInput, type ClusterReader, ExerciseDefinitionSchema } from './model.ts';
import { boundEvidence, MAX_EVIDENCE_BYTES, overallBound, runExercise } from './runner.ts';

// These checks never touch the cluster; a reader that refuses every call proves it.
const unused = () => Promise.reject(new Error('no cluster in this test'));
const reader: ClusterReader = {
  getPod: unused,
  listPods: unused,
  getJob: unused,
  listJobs: unused,
  getResourceQuota: unused,
  logs: unused,
  getConfigMap: unused,
  patchConfigMapData: unused,
  exec: unused,
};
const ctx = (answer?: string): CheckContext =>
  makeCheckContext(reader, { namespace: 'ns', deadline: Date.now() + 60_000, ...(answer ? { answer } : {}) });

function exercise(checks: CheckDefinitionInput[]) {
  return ExerciseDefinitionSchema.parse({ id: 'demo', title: 'Demo', goal: 'g', hints: ['h'], checks });
}
const check = (id: string, run: CheckDefinitionInput['run'], extra: Partial<CheckDefinitionInput> = {}) => ({
  id,
  title: `title of ${id}`,
  run,
  ...extra,
});

describe('runExercise', () => {
  it('runs checks in order and passes when all pass', async () => {
    const order: string[] = [];
    const report = await runExercise(
      exercise([
        check('a', async () => {
          order.push('a');
          return pass('A ok');
        }),
        check('b', async () => {
          order.push('b');
          return pass('B ok', { seen: 1 });
        }),
      ]),
      ctx(),
    );
    expect(order).toEqual(['a', 'b']);
    expect(report).toMatchObject({ exercise: 'demo', passed: true, status: 'pass' });
    expect(report.checks.map((c) => [c.id, c.status, c.message])).toEqual([
      ['a', 'pass', 'A ok'],
      ['b', 'pass', 'B ok'],
    ]);
    expect(report.checks[1]?.evidence).toEqual({ seen: 1 });
  });

  it('reports a check whose requirement failed as failed, without running it, and attaches hints to failures', async () => {
    let ran = false;
    const report = await runExercise(
      exercise([
        check('base', async () => fail('base is wrong'), { hint: 'fix the base' }),
        check('other', async () => pass('independent')),
        check(
          'dependent',
          async () => {
            ran = true;
            return pass('never');
          },
          { requires: ['base'] },
        ),
      ]),
      ctx(),
    );
    expect(ran).toBe(false);
    expect(report.status).toBe('fail');
    expect(report.checks.map((c) => c.status)).toEqual(['fail', 'pass', 'fail']);
    expect(report.checks[0]?.hint).toBe('fix the base');
    expect(report.checks[1]?.hint).toBeUndefined();
    expect(report.checks[2]?.message).toBe('Not checked yet; first fix: title of base.');
  });

  it('turns a cluster error into status error, never fail, and so are the checks that needed it', async () => {
    const report = await runExercise(
      exercise([
        check('a', async () => {
          throw new ClusterUnavailableError('get pod x in ns: connect ECONNREFUSED');
        }),
        check('b', async () => pass('ok'), { requires: ['a'] }),
      ]),
      ctx(),
    );
    expect(report.status).toBe('error');
    expect(report.passed).toBe(false);
    expect(report.checks[0]).toMatchObject({
      status: 'error',
      message: 'cluster unavailable: get pod x in ns: connect ECONNREFUSED',
    });
    expect(report.checks[1]?.status).toBe('error');
  });

  it("reports a bug in a check as an error, not as the learner's failure", async () => {
    const report = await runExercise(exercise([check('a', async () => ({ status: 'maybe' }) as never)]), ctx());
    expect(report.checks[0]?.status).toBe('error');
    expect(report.checks[0]?.message).toMatch(/^checker error: /);
  });

  it('stops a check at its deadline with status error', async () => {
    // The slow check never settles: the runner returning at all shows the deadline cut it off.
    const report = await runExercise(
      exercise([check('slow', () => new Promise(() => {}), { timeoutMs: 300 }), check('next', async () => pass('ok'))]),
      ctx(),
    );
    expect(report.checks[0]).toMatchObject({ status: 'error' });
    expect(report.checks[0]?.message).toMatch(/did not let this check finish within 300 ms/);
    expect(report.checks[1]?.status).toBe('pass');
  });

  it('bounds a whole run by its floor, or by its slowest check plus 20 s when that is longer', () => {
    const checks = (...timeouts: number[]) => ({
      checks: exercise(timeouts.map((t, i) => check(`c${i}`, async () => pass('ok'), { timeoutMs: t }))).checks,
    });
    expect(overallBound(checks(10_000, 30_000), 30_000)).toBe(50_000);
    expect(overallBound(checks(5_000), 30_000)).toBe(30_000);
    expect(overallBound(checks(120_000, 10_000), 90_000)).toBe(140_000);
  });

  it('marks checks left after the overall deadline as errors', async () => {
    const report = await runExercise(
      exercise([
        // Far past the deadline, so a loaded machine's late timers cannot reorder the two.
        check('a', () => new Promise((r) => setTimeout(() => r(pass('late')), 5_000).unref())),
        check('b', async () => pass('ok')),
      ]),
      ctx(),
      { overallTimeoutMs: 100 },
    );
    expect(report.checks.map((c) => c.status)).toEqual(['error', 'error']);
  });

  it('bounds waiting by the check deadline and hands the answer to checks', async () => {
    const report = await runExercise(
      exercise([
        check(
          'wait',
          async (c) => {
            const waited = await c.waitFor(async () => false, { timeoutMs: 60_000, intervalMs: 50 });
            return waited.ok ? pass('?') : fail(`gave up, answer ${c.answer}`);
          },
          { timeoutMs: 500 },
        ),
      ]),
      ctx('42'),
    );
    // The probe never succeeds and asks for 60 s: a fail (not an error) means waitFor itself gave up at the deadline.
    expect(report.checks[0]).toMatchObject({ status: 'fail', message: 'gave up, answer 42' });
  });

  it('streams each result as it is decided', async () => {
    const seen: string[] = [];
    await runExercise(exercise([check('a', async () => pass('ok')), check('b', async () => fail('no'))]), ctx(), {
      onResult: (r) => seen.push(`${r.id}:${r.status}`),
    });
    expect(seen).toEqual(['a:pass', 'b:fail']);
  });
});

describe('exercise definitions', () => {
  it('refuse duplicate ids and requirements on later checks', () => {
    const ok = async () => pass('ok');
    expect(() => exercise([check('a', ok), check('a', ok)])).toThrow(/duplicate check id/);
    expect(() => exercise([check('a', ok, { requires: ['b'] }), check('b', ok)])).toThrow(/not an earlier check/);
  });
});

describe('boundEvidence', () => {
  it('shortens long strings and arrays, and caps the whole', () => {
    const bounded = boundEvidence({ log: 'x'.repeat(5000), lines: Array.from({ length: 100 }, (_, i) => i) });
    expect(String(bounded.log)).toMatch(/… \(5000 chars\)$/);
    expect(bounded.lines).toHaveLength(41);
    const huge = boundEvidence({ many: Array.from({ length: 40 }, () => 'y'.repeat(1999)) });
    expect(JSON.stringify(huge).length).toBeLessThanOrEqual(MAX_EVIDENCE_BYTES);
    expect(huge.truncated).toBe(true);
  });
});
