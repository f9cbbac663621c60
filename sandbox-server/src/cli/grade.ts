// `npm run grade`: runs an exercise's checks against a namespace or freshly applied manifests; text, JSON or JUnit out.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ClusterUnavailableError, ManifestError } from '../../../exercises/errors.ts';
import { loadManifests, type ParsedManifests } from '../../../exercises/manifests.ts';
import type { CheckResult, Exercise, ExerciseReport } from '../../../exercises/model.ts';
import { exerciseIds, getExercise } from '../../../exercises/registry.ts';
import { runExercise } from '../../../exercises/runner.ts';
import { createCheckContext } from '../cluster/check-context.ts';
import type { ControllerRefusal } from '../cluster/grading-blueprint.ts';
import { type ApplyOutcome, deleteLiveGradingNamespaces, gradeInFreshNamespace } from '../cluster/grading-namespace.ts';
import { KubeconfigError, loadKubeConfig } from '../cluster/kubeconfig.ts';
import { ExplainedError, parseOrExplain } from '../protocol/explain.ts';

/** Printed with --help and after a usage error. */
export const USAGE = `Usage: npm run grade -- --exercise ID (--namespace NS | --apply PATH) [options]
       npm run grade -- --apply DIR                 (DIR holds one sub-folder per exercise id)

  --exercise ID        exercise to grade: ${exerciseIds.join(', ')}
  --namespace NS       check what already runs in namespace NS (nothing is applied or deleted)
  --apply PATH         manifests to grade (a file, or a folder of .yaml/.yml/.json files): they are applied, with a
                       learner's rights, to a fresh namespace fenced like a sandbox, left to settle, checked, and
                       the namespace is deleted (also on failure or Ctrl-C)
  --format FORMAT      text (default), json or junit
  --answer TEXT        the answer, for exercises that ask for one (overrides the text of an answer.yaml)
  --kubeconfig FILE    kubeconfig to use (default: $KUBECONFIG, then the local cluster's)
  --context NAME       context in the kubeconfig
  --settle-timeout S   seconds to wait for applied objects to settle (default: the exercise's, usually 60)
  --evidence           include each check's evidence in JSON output
  --keep-namespace     do not delete the namespace created by --apply (for debugging)
  --help               show this help

Exit status: 0 every check passed, 1 a check failed, 2 bad usage or unreadable manifests,
3 the cluster could not be reached or a check could not be decided, 130 interrupted.`;

/** Exit statuses, as documented in USAGE. */
export const EXIT = { pass: 0, fail: 1, usage: 2, unavailable: 3 } as const;

const exerciseIdSchema = z.string().refine((id) => exerciseIds.includes(id), {
  error: (issue) => `unknown exercise "${String(issue.input)}" (known: ${exerciseIds.join(', ')})`,
});

/** Validated command line. */
export const GradeArgsSchema = z
  .object({
    exercise: exerciseIdSchema.optional(),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a valid namespace name')
      .optional(),
    apply: z.string().min(1).optional(),
    format: z.enum(['text', 'json', 'junit']).default('text'),
    answer: z.string().optional(),
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    'settle-timeout': z.coerce.number().positive().max(600).optional(),
    evidence: z.boolean().default(false),
    'keep-namespace': z.boolean().default(false),
    help: z.boolean().default(false),
  })
  .superRefine((args, ctx) => {
    if (args.help) return;
    if (args.namespace && args.apply) {
      ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'give either --namespace or --apply, not both' });
    } else if (!args.namespace && !args.apply) {
      ctx.addIssue({ code: 'custom', path: ['apply'], message: 'give --namespace NS or --apply PATH' });
    }
    if (args.namespace && !args.exercise) {
      ctx.addIssue({ code: 'custom', path: ['exercise'], message: '--namespace needs --exercise ID' });
    }
  });
export type GradeArgs = z.infer<typeof GradeArgsSchema>;

/** Thrown for anything that is the caller's mistake; exits 2 with the message and the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses and validates argv (without node and script). */
export function parseGradeArgs(argv: string[]): GradeArgs {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        exercise: { type: 'string' },
        namespace: { type: 'string' },
        apply: { type: 'string' },
        format: { type: 'string' },
        answer: { type: 'string' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        'settle-timeout': { type: 'string' },
        evidence: { type: 'boolean' },
        'keep-namespace': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  try {
    return parseOrExplain(GradeArgsSchema, values, 'arguments');
  } catch (error) {
    if (error instanceof ExplainedError) {
      throw new UsageError(
        error.issues.map((i) => (i.path === '(root)' ? i.message : `--${i.path}: ${i.message}`)).join('; '),
      );
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What to grade.
// ---------------------------------------------------------------------------------------------------------------

/** One exercise to grade and the manifests for it (none with --namespace). */
export interface GradeJob {
  exercise: Exercise;
  manifests?: ParsedManifests;
  source?: string;
}

/** Sub-folders of `dir` named after exercises; other entries make the folder ambiguous, so they are an error. */
function perExerciseFolders(dir: string): string[] {
  const entries = readdirSync(dir).filter((name) => !name.startsWith('.'));
  const folders = entries.filter((name) => statSync(join(dir, name)).isDirectory());
  if (folders.length === 0) return [];
  const unknown = folders.filter((name) => !exerciseIds.includes(name));
  if (unknown.length) {
    throw new UsageError(`${dir}: sub-folders must be named after exercises; unknown: ${unknown.join(', ')}`);
  }
  return folders;
}

function manifestsAt(path: string): ParsedManifests {
  const manifests = loadManifests(path);
  if (manifests.objects.length === 0 && manifests.answers.length === 0) {
    throw new ManifestError(path, 1, 'no manifests found (expected .yaml, .yml or .json files)');
  }
  return manifests;
}

/** Turns validated arguments into grading jobs, reading (and so validating) every manifest first. */
export function planJobs(args: GradeArgs): GradeJob[] {
  if (args.namespace) return [{ exercise: getExercise(args.exercise as string) as Exercise }];
  const path = args.apply as string;
  if (!existsSync(path)) throw new ManifestError(path, 1, 'no such file or folder');
  if (args.exercise) {
    return [{ exercise: getExercise(args.exercise) as Exercise, manifests: manifestsAt(path), source: path }];
  }
  const folders = statSync(path).isDirectory() ? perExerciseFolders(path) : [];
  if (folders.length === 0) {
    throw new UsageError(`--apply ${path} without --exercise needs a folder with one sub-folder per exercise id`);
  }
  return folders.map((id) => ({
    exercise: getExercise(id) as Exercise,
    manifests: manifestsAt(join(path, id)),
    source: join(path, id),
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------------------------------------------

/** One graded exercise, as printed. */
export interface Graded {
  report: ExerciseReport;
  namespace: string;
  applyErrors: ApplyOutcome[];
  /** Objects a controller could not create after apply (e.g. Pods beyond the quota), with the API server's message. */
  contained: ControllerRefusal[];
  settlePending: string[];
}

const MARK: Record<CheckResult['status'], string> = { pass: 'PASS ', fail: 'FAIL ', error: 'ERROR' };

/** Human-readable report. */
export function formatText(results: readonly Graded[]): string {
  const out: string[] = [];
  for (const { report, namespace, applyErrors, contained, settlePending } of results) {
    const passed = report.checks.filter((c) => c.status === 'pass').length;
    const seconds = (report.durationMs / 1000).toFixed(1);
    out.push(
      `${report.exercise}: ${report.status.toUpperCase()} (${passed}/${report.checks.length} checks passed in ${seconds} s, namespace ${namespace})`,
    );
    for (const a of applyErrors) out.push(`  refused: ${a.kind} ${a.name} (${a.file}:${a.line}): ${a.error}`);
    for (const c of contained) out.push(`  contained: ${c.object} (${c.count}×): ${c.message}`);
    if (settlePending.length) out.push(`  not settled: ${settlePending.join('; ')}`);
    for (const check of report.checks) {
      out.push(`  ${MARK[check.status]} ${check.id}: ${check.message}`);
      if (check.hint) out.push(`         hint: ${check.hint}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function jsonReport(g: Graded, withEvidence: boolean) {
  return {
    exercise: g.report.exercise,
    passed: g.report.passed,
    status: g.report.status,
    namespace: g.namespace,
    startedAt: g.report.startedAt,
    durationMs: g.report.durationMs,
    ...(g.applyErrors.length ? { applyErrors: g.applyErrors } : {}),
    ...(g.contained.length ? { contained: g.contained } : {}),
    checks: g.report.checks.map((c) => ({
      id: c.id,
      title: c.title,
      passed: c.status === 'pass',
      status: c.status,
      message: c.message,
      ...(c.hint ? { hint: c.hint } : {}),
      ...(withEvidence ? { evidence: c.evidence } : {}),
    })),
  };
}

/** `{ exercise, passed, checks: [{ id, title, passed, message }] }` (plus status); several: `{ passed, exercises }`. */
export function formatJson(results: readonly Graded[], withEvidence = false): string {
  const [only] = results;
  const body =
    results.length === 1 && only
      ? jsonReport(only, withEvidence)
      : { passed: results.every((r) => r.report.passed), exercises: results.map((r) => jsonReport(r, withEvidence)) };
  return `${JSON.stringify(body, null, 2)}\n`;
}

const xml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // XML 1.0 forbids most control characters, even escaped; log lines can carry them.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: one testsuite per exercise, one testcase per check; `error` checks are <error>, not <failure>. */
export function formatJunit(results: readonly Graded[]): string {
  const count = (status: CheckResult['status'], r: readonly CheckResult[]) =>
    r.filter((c) => c.status === status).length;
  const all = results.flatMap((r) => r.report.checks);
  const total = (results.reduce((s, r) => s + r.report.durationMs, 0) / 1000).toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sidecar-lab grade" tests="${all.length}" failures="${count('fail', all)}" errors="${count('error', all)}" time="${total}">`,
  ];
  for (const { report } of results) {
    const c = report.checks;
    lines.push(
      `  <testsuite name="${xml(report.exercise)}" tests="${c.length}" failures="${count('fail', c)}" errors="${count('error', c)}" skipped="0" time="${(report.durationMs / 1000).toFixed(3)}" timestamp="${report.startedAt}">`,
    );
    for (const check of c) {
      const open = `    <testcase classname="${xml(report.exercise)}" name="${xml(`${check.id}: ${check.title}`)}" time="${(check.durationMs / 1000).toFixed(3)}"`;
      if (check.status === 'pass') {
        lines.push(`${open}/>`);
        continue;
      }
      const tag = check.status === 'fail' ? 'failure' : 'error';
      const detail = check.hint ? `${check.message}\nhint: ${check.hint}` : check.message;
      lines.push(
        `${open}>`,
        `      <${tag} message="${xml(check.message)}">${xml(detail)}</${tag}>`,
        '    </testcase>',
      );
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** 0 when every check passed, 1 when any failed, 3 when none failed but some could not be decided. */
export function exitStatus(results: readonly Graded[]): number {
  const checks = results.flatMap((r) => r.report.checks);
  if (checks.some((c) => c.status === 'fail')) return EXIT.fail;
  if (checks.some((c) => c.status === 'error')) return EXIT.unavailable;
  return EXIT.pass;
}

// ---------------------------------------------------------------------------------------------------------------
// Running.
// ---------------------------------------------------------------------------------------------------------------

async function gradeOne(job: GradeJob, args: GradeArgs, kc: ReturnType<typeof loadKubeConfig>): Promise<Graded> {
  const log = (line: string) => process.stderr.write(`[${job.exercise.id}] ${line}\n`);
  if (!job.manifests) {
    const namespace = args.namespace as string;
    const ctx = createCheckContext(kc, namespace, args.answer === undefined ? {} : { answer: args.answer });
    const report = await runExercise(job.exercise, ctx);
    return { report, namespace, applyErrors: [], contained: [], settlePending: [] };
  }
  const run = await gradeInFreshNamespace(kc, job.exercise, job.manifests, {
    ...(args.answer === undefined ? {} : { answer: args.answer }),
    ...(args['settle-timeout'] ? { settleTimeoutMs: args['settle-timeout'] * 1000 } : {}),
    keepNamespace: args['keep-namespace'],
    onProgress: log,
  });
  return {
    report: run.report,
    namespace: run.namespace,
    applyErrors: run.applied.filter((a) => a.error),
    contained: run.contained,
    settlePending: run.settle.pending,
  };
}

/** Runs `fn` on each item, at most `limit` at a time; results keep the items' order. */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Exit status after Ctrl-C or SIGTERM, as shells report a death by SIGINT (128 + 2). */
const EXIT_INTERRUPTED = 130;

/**
 * On Ctrl-C or SIGTERM, deletes the namespaces of the runs in progress before exiting, so an interrupted grading
 * leaves nothing behind (a run's own `finally` never gets to run). Returns a function that removes the handlers.
 */
function deleteNamespacesOnInterrupt(): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`grade: ${signal}: deleting the grading namespaces\n`);
    deleteLiveGradingNamespaces().then((names) => {
      process.stderr.write(`grade: deleted ${names.length ? names.join(', ') : 'nothing'}\n`);
      process.exit(EXIT_INTERRUPTED);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** The whole command; resolves with the exit status. Output goes to stdout, progress and errors to stderr. */
export async function main(argv: string[]): Promise<number> {
  let args: GradeArgs;
  let jobs: GradeJob[];
  let kc: ReturnType<typeof loadKubeConfig>;
  try {
    args = parseGradeArgs(argv);
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.pass;
    }
    jobs = planJobs(args);
    kc = loadKubeConfig({
      ...(args.kubeconfig ? { kubeconfig: args.kubeconfig } : {}),
      ...(args.context ? { context: args.context } : {}),
    });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`grade: ${error.message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    if (error instanceof ManifestError || error instanceof KubeconfigError) {
      process.stderr.write(`grade: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  let results: Graded[];
  const stopInterrupted = deleteNamespacesOnInterrupt();
  try {
    // A few at a time: each run starts Pods, and the machine may have only two cores.
    results = await inBatches(jobs, 3, (job) => gradeOne(job, args, kc));
  } catch (error) {
    if (error instanceof ClusterUnavailableError) {
      process.stderr.write(`grade: cluster unavailable: ${error.message}\n`);
      return EXIT.unavailable;
    }
    throw error;
  } finally {
    stopInterrupted();
  }
  const text =
    args.format === 'json'
      ? formatJson(results, args.evidence)
      : args.format === 'junit'
        ? formatJunit(results)
        : formatText(results);
  process.stdout.write(text);
  return exitStatus(results);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`grade: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.unavailable;
    },
  );
}
