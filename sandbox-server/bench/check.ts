// Check latency: the reference solution of each exercise applied into a learner's sandbox and settled, then the
// learner presses Check (POST /api/sandboxes/:id/checks/:exercise) again and again; compared with the cheapest call
// that reaches the cluster through the same server (GET /api/sandboxes/:id: one namespace and one Pod read).
import { parseManifests } from '../../exercises/manifests.ts';
import type { Exercise, ExerciseReport } from '../../exercises/model.ts';
import { exercises } from '../../exercises/registry.ts';
import { waitForSettled } from '../../exercises/settle.ts';
import { createCheckContext } from '../src/cluster/check-context.ts';
import { applyManifests } from '../src/cluster/grading-namespace.ts';
import { CHECKER_USER } from '../src/sandboxes/checks.ts';
import type { Lab } from './lib/lab.ts';
import { type BenchResult, resultOf, withTarget } from './lib/results.ts';

async function checkExercise(lab: Lab, exercise: Exercise, runs: number): Promise<BenchResult> {
  const { server } = await lab.terminalFixture();
  const { learner, sandbox } = await lab.newSandbox(server);
  const files = [...exercise.setup, ...exercise.solution];
  const parsed = files.map((f) => parseManifests(f.content, `exercises/${exercise.id}/${f.path}`));
  // Applied as the admin, as `kubectl apply` by the learner would be; what is timed is only the Check.
  const applied = await applyManifests(
    lab.kc,
    sandbox.namespace,
    parsed.flatMap((p) => p.objects),
  );
  const refused = applied.filter((a) => a.error).map((a) => `${a.kind}/${a.name}: ${a.error}`);
  const reader = createCheckContext(lab.kc, sandbox.namespace, { impersonate: CHECKER_USER });
  const settle = await waitForSettled(reader, { timeoutMs: exercise.settleTimeoutMs });
  // The reference answer, found by the exercise's trusted code when it is random per run.
  const answer = (await exercise.referenceAnswer?.(reader)) ?? parsed.flatMap((p) => p.answers)[0]?.answer;

  // "Settled" for a reference solution means its checks pass: under load the kubelet's first probe verdicts can come
  // later than settle.ts expects, so Check is pressed (untimed) until it passes, as a learner would, or 60 s pass.
  const path = `/api/sandboxes/${sandbox.id}/checks/${exercise.id}`;
  const body = answer === undefined ? {} : { answer };
  const until = Date.now() + 60_000;
  let warm = await learner.request('POST', path, body);
  while ((warm.json as ExerciseReport | undefined)?.status !== 'pass' && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    warm = await learner.request('POST', path, body);
  }
  const warmReport = warm.json as ExerciseReport;
  const firstProblem = warmReport.checks?.find((c) => c.status !== 'pass');

  const checks: number[] = [];
  const serverSide: number[] = [];
  const reads: number[] = [];
  const statuses = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    // Alternating with the baseline, so both see the same background load.
    const r0 = performance.now();
    const view = await learner.request('GET', `/api/sandboxes/${sandbox.id}`);
    reads.push((performance.now() - r0) / 1000);
    if (view.status !== 200) throw new Error(`GET sandbox answered ${view.status}`);
    const c0 = performance.now();
    const response = await learner.request('POST', path, body);
    checks.push((performance.now() - c0) / 1000);
    if (response.status !== 200) throw new Error(`check answered ${response.status}: ${JSON.stringify(response.json)}`);
    const report = response.json as ExerciseReport;
    serverSide.push(report.durationMs / 1000);
    statuses.set(report.status, (statuses.get(report.status) ?? 0) + 1);
  }
  void lab.tracker.delete(sandbox.namespace);

  const problems = [
    ...(refused.length ? [`refused: ${refused.join('; ')}`] : []),
    ...(settle.settled ? [] : [`not settled after ${settle.waitedMs} ms: ${settle.pending.join('; ')}`]),
    ...(statuses.get('pass') === runs ? [] : [`verdicts ${JSON.stringify(Object.fromEntries(statuses))}`]),
    ...(firstProblem ? [`never passed within 60 s: ${firstProblem.id}: ${firstProblem.message}`] : []),
  ];
  lab.log(`check ${exercise.id}: p50 ${(checks.sort((a, b) => a - b)[Math.floor(runs / 2)] ?? 0).toFixed(2)} s`);
  return withTarget(
    resultOf(
      {
        name: 'check',
        metric: `check ${exercise.id}`,
        unit: 's',
        details: {
          serverSideSeconds: serverSide,
          settleWaitedMs: settle.waitedMs,
          verdicts: Object.fromEntries(statuses),
        },
        ...(problems.length ? { note: problems.join('; ') } : {}),
      },
      checks,
      { name: 'GET /api/sandboxes/:id through the same server', samples: reads },
    ),
    'p50 ≤ 2 s',
    'p50',
    '<=',
    2,
  );
}

export async function check(lab: Lab): Promise<BenchResult[]> {
  const runs = lab.quick ? 1 : 10;
  const chosen = lab.quick ? [...exercises.values()].slice(0, 1) : [...exercises.values()];
  const rows: BenchResult[] = [];
  for (const exercise of chosen) rows.push(await checkExercise(lab, exercise, runs));
  return rows;
}
