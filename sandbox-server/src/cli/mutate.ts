// `npm run exercises:mutate`: grades every generated mutant of every exercise's solutions on the real cluster.
//
// A mutant is killed when a check fails on it, and survives when every check passes: then either a check has a hole,
// or the mutant is as correct as the solution, which the exercise must declare (`equivalentMutants`, with a reason).
// Declared equivalents are graded too and must pass every check: a check that fails them rejects a correct solution
// for a cosmetic difference. Each solution is graded unmutated as well, since kills mean nothing when it fails.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterUnavailableError } from '../../../exercises/errors.ts';
import { parseManifests } from '../../../exercises/manifests.ts';
import type { Exercise, ExerciseReport } from '../../../exercises/model.ts';
import { type DuplicateMutant, generateMutants, type Mutant } from '../../../exercises/mutants.ts';
import { exerciseIds, exercises } from '../../../exercises/registry.ts';
import { gradeInFreshNamespace } from '../cluster/grading-namespace.ts';
import { type KubeConfig, KubeconfigError, loadKubeConfig } from '../cluster/kubeconfig.ts';
import { inBatches, UsageError } from './grade.ts';

/** Printed with --help and after a usage error. */
export const USAGE = `Usage: npm run exercises:mutate -- [--only ID,...] [--every-solution] [--concurrency N] [--out FILE]

Generates mutants of each exercise's solutions (solution/ and accepted/), grades each in a fresh namespace of the
cluster (KUBECONFIG, else the local cluster), prints a table and writes a JSON result.

  --only ID,...        only these exercises: ${exerciseIds.join(', ')}
  --every-solution     grade each change on every solution file that has it (by default a change at one site,
                       e.g. rename:main-app, is graded on the first solution only; the others are counted)
  --concurrency N      gradings at once (default 4)
  --out FILE           where the JSON result goes (default mutation-results/<start time>.json)
  --help               show this help

Exit status: 0 every mutant was killed or is a declared equivalent that passes, and every solution passes;
1 otherwise (a survivor, an equivalent that fails, a failing solution, a run the cluster could not decide,
or a stale equivalentMutants declaration); 2 bad usage.`;

/** Validated command line. */
export interface MutateArgs {
  only: string[];
  everySolution: boolean;
  concurrency: number;
  out?: string;
  help: boolean;
}

/** Parses argv (without node and script); an unknown flag or exercise is a UsageError naming it. */
export function parseMutateArgs(argv: string[]): MutateArgs {
  let values: { only?: string; 'every-solution'?: boolean; concurrency?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        only: { type: 'string' },
        'every-solution': { type: 'boolean' },
        concurrency: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const only = (values.only ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((id) => !exerciseIds.includes(id));
  if (unknown.length) {
    throw new UsageError(`--only: unknown exercise ${unknown.map((u) => `"${u}"`).join(', ')}`);
  }
  if (values.only !== undefined && only.length === 0) throw new UsageError('--only needs at least one exercise id');
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
    throw new UsageError(`--concurrency: "${values.concurrency}" is not a whole number from 1 to 16`);
  }
  if (values.out === '') throw new UsageError('--out needs a file name');
  return {
    only,
    everySolution: values['every-solution'] === true,
    concurrency,
    help: values.help === true,
    ...(values.out === undefined ? {} : { out: values.out }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Verdicts.
// ---------------------------------------------------------------------------------------------------------------

/** What grading one mutant showed. */
export type Verdict =
  /** A check failed: the one that failed first. */
  | { kind: 'killed'; check: string; message: string }
  /** Every check passed on a mutant nobody declared equivalent. */
  | { kind: 'survived' }
  /** Declared equivalent, and every check passed, as it should. */
  | { kind: 'equivalent'; why: string }
  /** Declared equivalent, yet a check failed: either the declaration is wrong or that check is too strict. */
  | { kind: 'equivalent-failed'; why: string; check: string; message: string }
  /** The cluster could not decide (a check in `error`, none failed). */
  | { kind: 'undecided'; check: string; message: string };

/** Decides a mutant's verdict from its report; `why` is the equivalence reason when the exercise declares one. */
export function classify(report: ExerciseReport, why?: string): Verdict {
  const failed = report.checks.find((c) => c.status === 'fail');
  const errored = report.checks.find((c) => c.status === 'error');
  if (failed) {
    const at = { check: failed.id, message: failed.message };
    return why === undefined ? { kind: 'killed', ...at } : { kind: 'equivalent-failed', why, ...at };
  }
  if (errored) return { kind: 'undecided', check: errored.id, message: errored.message };
  return why === undefined ? { kind: 'survived' } : { kind: 'equivalent', why };
}

/** One graded mutant, as printed and written to JSON. */
export interface MutantResult {
  id: string;
  operator: string;
  source: string;
  description: string;
  verdict: Verdict;
  /** API server refusals of the mutant's objects (a refused object is itself a way to be killed). */
  refused: string[];
  durationMs: number;
}

/** An unmutated solution graded beside its mutants. */
export interface BaselineResult {
  source: string;
  passed: boolean;
  /** The first check that did not pass, when one did not. */
  check?: string;
  message?: string;
  /** The first grading's failure, when the solution passed only when graded a second time. */
  firstFailure?: { check: string; message: string };
}

/** Everything about one exercise's mutants. */
export interface ExerciseMutation {
  exercise: string;
  /** Why it has no mutants, when it has none (e.g. its solution is an answer, not manifests). */
  note?: string;
  baseline: BaselineResult[];
  results: MutantResult[];
  /** Mutants graded once because an identical one (or a solution) already is. */
  duplicates: DuplicateMutant[];
  /** Declared equivalent ids that the generator no longer produces. */
  staleEquivalents: string[];
}

/** Per-exercise counts, as in the table. */
export function countsOf(e: ExerciseMutation) {
  const count = (...kinds: Verdict['kind'][]) => e.results.filter((r) => kinds.includes(r.verdict.kind)).length;
  return {
    mutants: e.results.length,
    killed: count('killed'),
    equivalent: count('equivalent', 'equivalent-failed'),
    survived: count('survived'),
    undecided: count('undecided'),
  };
}

/** True when the run proves every check: nothing survived and nothing else needs a look. */
export function allKilled(run: readonly ExerciseMutation[]): boolean {
  return run.every(
    (e) =>
      e.staleEquivalents.length === 0 &&
      e.baseline.every((b) => b.passed) &&
      e.results.every((r) => r.verdict.kind === 'killed' || r.verdict.kind === 'equivalent'),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------------------------------------------

/** The summary table, then every result that needs a look (survivors first), each with its id. */
export function formatReport(run: readonly ExerciseMutation[], wallMs: number): string {
  const header = ['exercise', 'mutants', 'killed', 'equivalent', 'survived', 'undecided'];
  const rows = run.map((e) => {
    const c = countsOf(e);
    return [e.exercise, c.mutants, c.killed, c.equivalent, c.survived, c.undecided].map(String);
  });
  const totals = run.map(countsOf).reduce(
    (t, c) => ({
      mutants: t.mutants + c.mutants,
      killed: t.killed + c.killed,
      equivalent: t.equivalent + c.equivalent,
      survived: t.survived + c.survived,
      undecided: t.undecided + c.undecided,
    }),
    { mutants: 0, killed: 0, equivalent: 0, survived: 0, undecided: 0 },
  );
  rows.push(['total', totals.mutants, totals.killed, totals.equivalent, totals.survived, totals.undecided].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w, i) => `${'-'.repeat(w + 1)}${i === 0 ? '-' : ':'}`).join('|')}|`];
  out.push(...rows.map(line), '');
  const list = (title: string, items: string[]) => {
    if (items.length) out.push(`${title}:`, ...items.map((i) => `  ${i}`), '');
  };
  const each = (kind: Verdict['kind'], show: (e: ExerciseMutation, r: MutantResult) => string) =>
    run.flatMap((e) => e.results.filter((r) => r.verdict.kind === kind).map((r) => show(e, r)));
  list(
    'Survivors (every check passed)',
    each('survived', (e, r) => `${e.exercise}  ${r.id}  — ${r.description}`),
  );
  list(
    'Declared equivalent, yet a check failed',
    each('equivalent-failed', (e, r) => {
      const v = r.verdict as Extract<Verdict, { kind: 'equivalent-failed' }>;
      return `${e.exercise}  ${r.id}  — ${v.check}: ${v.message}`;
    }),
  );
  list(
    'Undecided (the cluster could not decide, three times)',
    each('undecided', (e, r) => {
      const v = r.verdict as Extract<Verdict, { kind: 'undecided' }>;
      return `${e.exercise}  ${r.id}  — ${v.check}: ${v.message}`;
    }),
  );
  list(
    'Solutions that fail (their mutants prove nothing)',
    run.flatMap((e) =>
      e.baseline.filter((b) => !b.passed).map((b) => `${e.exercise}  ${b.source}  — ${b.check}: ${b.message}`),
    ),
  );
  list(
    'Solutions that passed only when graded a second time (the first grading failed)',
    run.flatMap((e) =>
      e.baseline
        .filter((b) => b.passed && b.firstFailure)
        .map((b) => `${e.exercise}  ${b.source}  — ${b.firstFailure?.check}: ${b.firstFailure?.message}`),
    ),
  );
  list(
    'Stale equivalentMutants declarations (no such mutant is generated)',
    run.flatMap((e) => e.staleEquivalents.map((id) => `${e.exercise}  ${id}`)),
  );
  list(
    'Killed by (check: mutants)',
    run.flatMap((e) => {
      const byCheck = new Map<string, number>();
      for (const r of e.results) {
        if (r.verdict.kind === 'killed') byCheck.set(r.verdict.check, (byCheck.get(r.verdict.check) ?? 0) + 1);
      }
      if (byCheck.size === 0) return [];
      return [`${e.exercise}: ${[...byCheck].map(([check, n]) => `${check} ${n}`).join(', ')}`];
    }),
  );
  list(
    'No mutants',
    run.filter((e) => e.note).map((e) => `${e.exercise}: ${e.note}`),
  );
  const duplicates = (reason: DuplicateMutant['reason']) =>
    run.reduce((n, e) => n + e.duplicates.filter((d) => d.reason === reason).length, 0);
  out.push(
    `${totals.mutants} mutants graded, ${run.reduce((n, e) => n + e.baseline.length, 0)} solutions, in ${(wallMs / 1000).toFixed(0)} s; not graded again: ${duplicates('identical')} identical to a graded mutant or a solution, ${duplicates('same-site')} the same change on another solution (--every-solution grades those).`,
  );
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Running.
// ---------------------------------------------------------------------------------------------------------------

/** One grading to do: a mutant, or an unmutated solution (baseline). */
type Task =
  | { exercise: Exercise; kind: 'mutant'; mutant: Mutant; why?: string }
  | { exercise: Exercise; kind: 'baseline'; source: string };

const refusals = (applied: Array<{ kind: string; name: string; error?: string }>) =>
  applied.filter((a) => a.error).map((a) => `${a.kind} ${a.name}: ${a.error}`);

/** A grading's report, or why the cluster could not produce one. */
type Graded = { report: ExerciseReport; refused: string[] } | { unavailable: string };

/**
 * Pauses before grading again after an undecided run: long enough for an API server restart (another suite on the
 * shared cluster may cause one) to pass, so one blip does not leave a row of undecided mutants.
 */
const RETRY_DELAYS_MS = [10_000, 30_000];

/** Grades, and again (after a pause) while the cluster could not decide: an undecided run is no verdict. */
async function gradeTask(kc: KubeConfig, task: Task, onProgress: (line: string) => void): Promise<Graded> {
  const manifests =
    task.kind === 'mutant'
      ? task.mutant.manifests
      : parseManifests(
          [...task.exercise.solution, ...task.exercise.accepted].find((f) => f.path === task.source)?.content ?? '',
          `exercises/${task.exercise.id}/${task.source}`,
        );
  let last: Graded = { unavailable: 'not graded' };
  for (const delay of [0, ...RETRY_DELAYS_MS]) {
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      const { referenceAnswer } = task.exercise;
      const run = await gradeInFreshNamespace(kc, task.exercise, manifests, {
        prefix: 'mut-',
        onProgress,
        // A random answer (debug-commands) is found by the exercise's trusted code, as the solution's would be.
        ...(referenceAnswer ? { findAnswer: (ctx) => referenceAnswer(ctx) } : {}),
      });
      last = { report: run.report, refused: refusals(run.applied) };
      if (run.report.status !== 'error') return last;
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) throw error;
      last = { unavailable: `cluster unavailable: ${error.message}` };
    }
  }
  return last;
}

/** Options for `runMutation`. */
export interface MutationOptions {
  /** Exercise ids; all when empty. */
  only?: readonly string[];
  /** Grade each change on every solution file, not only on the first that has it. */
  everySolution?: boolean;
  concurrency?: number;
  /** One line per graded mutant or solution. */
  onProgress?: (line: string) => void;
}

/** The tasks of one exercise, and what it contributes to the result before grading. */
function plan(exercise: Exercise, everySolution: boolean): { tasks: Task[]; result: ExerciseMutation } {
  const set = generateMutants([...exercise.solution, ...exercise.accepted], {
    where: `exercises/${exercise.id}`,
    everySolution,
  });
  const declared = new Map(exercise.equivalentMutants.map((e) => [e.id, e.why]));
  // A declaration is stale when its mutant is not generated at all (one counted as a duplicate still is).
  const ids = new Set([...set.mutants, ...set.duplicates].map((m) => m.id));
  const sources = [...exercise.solution, ...exercise.accepted].filter(
    (f) => parseManifests(f.content, `exercises/${exercise.id}/${f.path}`).objects.length > 0,
  );
  const result: ExerciseMutation = {
    exercise: exercise.id,
    baseline: [],
    results: [],
    duplicates: set.duplicates,
    staleEquivalents: [...declared.keys()].filter((id) => !ids.has(id)),
    ...(set.mutants.length === 0
      ? { note: 'its solution holds no Kubernetes objects to mutate (only an answer)' }
      : {}),
  };
  const tasks: Task[] = [
    ...sources.map((f) => ({ exercise, kind: 'baseline' as const, source: f.path })),
    ...set.mutants.map((mutant) => {
      const why = declared.get(mutant.id);
      return { exercise, kind: 'mutant' as const, mutant, ...(why === undefined ? {} : { why }) };
    }),
  ];
  return { tasks, result };
}

/** Round-robin across exercises, so slow ones (Jobs, restarts) overlap with quick ones instead of queueing up. */
function interleave<T>(lists: readonly T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(0, ...lists.map((l) => l.length)); i++) {
    for (const list of lists) if (i < list.length) out.push(list[i] as T);
  }
  return out;
}

/** The first check that did not pass, or why the cluster could not grade; undefined when every check passed. */
function failureOf(graded: Graded): { check: string; message: string } | undefined {
  if ('unavailable' in graded) return { check: '(none)', message: graded.unavailable };
  const failing = graded.report.checks.find((c) => c.status !== 'pass');
  return failing ? { check: failing.id, message: failing.message } : undefined;
}

/** Generates and grades the mutants of the chosen exercises; resolves with one entry per exercise, in course order. */
export async function runMutation(kc: KubeConfig, options: MutationOptions = {}): Promise<ExerciseMutation[]> {
  const chosen = [...exercises.values()].filter((e) => !options.only?.length || options.only.includes(e.id));
  const planned = chosen.map((e) => plan(e, options.everySolution === true));
  const tasks = interleave(planned.map((p) => p.tasks));
  const byExercise = new Map(planned.map((p) => [p.result.exercise, p.result]));
  const progress = options.onProgress ?? (() => {});
  let done = 0;
  await inBatches(tasks, options.concurrency ?? 4, async (task) => {
    const started = Date.now();
    // Only a failed clean-up is worth a line: the namespace is then left for the reaper (it expires in 30 min).
    const onLine = (line: string) => {
      if (line.startsWith('could not delete')) progress(`${task.exercise.id}: ${line}`);
    };
    const graded = await gradeTask(kc, task, onLine);
    const entry = byExercise.get(task.exercise.id) as ExerciseMutation;
    if (task.kind === 'baseline') {
      const firstFailure = failureOf(graded);
      // A solution is graded again once before it counts as failing: on a busy node a kubelet probe with a one-second
      // timeout can time out by itself (seen in CI with four gradings at once), and one such blip would otherwise void
      // every mutant of the exercise. Both gradings are reported, so a solution that fails only sometimes shows.
      const final = firstFailure ? await gradeTask(kc, task, onLine) : graded;
      const failing = failureOf(final);
      const passed = 'report' in final && final.report.passed;
      done++;
      entry.baseline.push({
        source: task.source,
        passed,
        ...(failing ?? {}),
        ...(firstFailure && passed ? { firstFailure } : {}),
      });
      const verdict = passed
        ? `pass${firstFailure ? ` on a second grading (the first failed at ${firstFailure.check}: ${firstFailure.message})` : ''}`
        : `FAIL at ${failing?.check}: ${failing?.message}`;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      progress(`[${done}/${tasks.length}] ${task.exercise.id} ${task.source}: ${verdict} (${seconds} s)`);
      return;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    done++;
    const verdict: Verdict =
      'report' in graded
        ? classify(graded.report, task.why)
        : { kind: 'undecided', check: '(none)', message: graded.unavailable };
    const { id, operator, source, description } = task.mutant;
    const refused = 'refused' in graded ? graded.refused : [];
    entry.results.push({ id, operator, source, description, verdict, refused, durationMs: Date.now() - started });
    const at = 'check' in verdict ? ` at ${verdict.check}` : '';
    progress(`[${done}/${tasks.length}] ${task.exercise.id} ${id}: ${verdict.kind}${at} (${seconds} s)`);
  });
  // Results arrive in completion order; list them in generation order.
  for (const p of planned) {
    const order = new Map(p.tasks.map((t, i) => [t.kind === 'mutant' ? t.mutant.id : t.source, i]));
    p.result.results.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    p.result.baseline.sort((a, b) => (order.get(a.source) ?? 0) - (order.get(b.source) ?? 0));
  }
  return planned.map((p) => p.result);
}

/** The whole command; resolves with the exit status. The table goes to stdout, progress to stderr. */
export async function main(argv: string[]): Promise<number> {
  let args: MutateArgs;
  let kc: KubeConfig;
  try {
    args = parseMutateArgs(argv);
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    kc = loadKubeConfig();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`exercises:mutate: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof KubeconfigError) {
      process.stderr.write(`exercises:mutate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const startedAt = new Date();
  const run = await runMutation(kc, {
    only: args.only,
    everySolution: args.everySolution,
    concurrency: args.concurrency,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  const wallMs = Date.now() - startedAt.getTime();
  process.stdout.write(formatReport(run, wallMs));
  const out = args.out ?? `mutation-results/${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
  mkdirSync(dirname(out), { recursive: true });
  const json = { startedAt: startedAt.toISOString(), wallMs, concurrency: args.concurrency, exercises: run };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`JSON result: ${out}\n`);
  return allKilled(run) ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `exercises:mutate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
