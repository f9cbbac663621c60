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
import { alternate, failureNote } from './lib/alternate.ts';
import type { Lab } from './lib/lab.ts';
import { type BenchResult, percentile, resultOf, withTarget } from './lib/results.ts';

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
  // The baseline is warmed alike: one read for every warm-up press, so neither side meets a cold cache or connection.
  const path = `/api/sandboxes/${sandbox.id}/checks/${exercise.id}`;
  const read = `/api/sandboxes/${sandbox.id}`;
  const body = answer === undefined ? {} : { answer };
  const until = Date.now() + 60_000;
  let warmUps = 0;
  let warm: Awaited<ReturnType<typeof learner.request>>;
  do {
    if (warmUps > 0) await new Promise((r) => setTimeout(r, 1000));
    await learner.request('GET', read);
    warm = await learner.request('POST', path, body);
    warmUps++;
  } while ((warm.json as ExerciseReport | undefined)?.status !== 'pass' && Date.now() < until);
  const warmReport = warm.json as ExerciseReport;
  const firstProblem = warmReport.checks?.find((c) => c.status !== 'pass');

  const serverSide: number[] = [];
  const statuses = new Map<string, number>();
  const timed = async (send: () => Promise<{ status: number; json: unknown }>, what: string) => {
    const t0 = performance.now();
    const response = await send();
    const seconds = (performance.now() - t0) / 1000;
    if (response.status !== 200)
      throw new Error(`${what} answered ${response.status}: ${JSON.stringify(response.json)}`);
    return { seconds, json: response.json };
  };
  // Alternating with the baseline, so both see the same background load; a failed request of either is retried.
  const done = await alternate(
    {
      read: async () => (await timed(() => learner.request('GET', read), 'GET sandbox')).seconds,
      check: async () => {
        const { seconds, json } = await timed(() => learner.request('POST', path, body), 'check');
        const report = json as ExerciseReport;
        serverSide.push(report.durationMs / 1000);
        statuses.set(report.status, (statuses.get(report.status) ?? 0) + 1);
        return seconds;
      },
    },
    runs,
  );
  const checks = done.check.samples;
  void lab.tracker.delete(sandbox.namespace);

  const problems = [
    ...(refused.length ? [`refused: ${refused.join('; ')}`] : []),
    ...(settle.settled ? [] : [`not settled after ${settle.waitedMs} ms: ${settle.pending.join('; ')}`]),
    ...(statuses.get('pass') === checks.length ? [] : [`verdicts ${JSON.stringify(Object.fromEntries(statuses))}`]),
    failureNote(done.check, runs, 'checks'),
    failureNote(done.read, runs, 'reads') && `baseline: ${failureNote(done.read, runs, 'reads')}`,
    ...(firstProblem ? [`never passed within 60 s: ${firstProblem.id}: ${firstProblem.message}`] : []),
  ];
  lab.log(`check ${exercise.id}: p50 ${percentile(checks, 50).toFixed(2)} s`);
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
          warmUpPresses: warmUps,
        },
        ...(problems.some(Boolean) ? { note: problems.filter(Boolean).join('; ') } : {}),
      },
      checks,
      { name: 'GET /api/sandboxes/:id through the same server, warmed alike, alternating', samples: done.read.samples },
    ),
    'p50 ≤ 2 s',
    'p50',
    '<=',
    2,
  );
}

/** The exercises to time: --exercises when given (unknown ids are an error naming them), else all (quick: the first). */
export function chosenExercises(lab: Lab): Exercise[] {
  const all = [...exercises.values()];
  const wanted = lab.options.exercises;
  if (!wanted) return lab.quick ? all.slice(0, 1) : all;
  const unknown = wanted.filter((id) => !exercises.has(id));
  if (unknown.length)
    throw new Error(`no exercise named ${unknown.join(', ')} (there are: ${[...exercises.keys()].join(', ')})`);
  return all.filter((e) => wanted.includes(e.id));
}

export async function check(lab: Lab): Promise<BenchResult[]> {
  const runs = lab.samples(10);
  const chosen = chosenExercises(lab);
  const rows: BenchResult[] = [];
  for (const exercise of chosen) rows.push(await checkExercise(lab, exercise, runs));
  return rows;
}
