// `npm run bench`: runs the benchmarks against the real cluster, prints a table, writes bench-results/<time>.json.
// `npm run bench -- --help` lists the options (lib/options.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { VersionInfo } from '@kubernetes/client-node';
import { exerciseIds } from '../../exercises/registry.ts';
import { bulk } from './bulk.ts';
import { burst } from './burst.ts';
import { capacity } from './capacity.ts';
import { check } from './check.ts';
import { concurrency } from './concurrency.ts';
import { echo } from './echo.ts';
import { createLab, type Lab, REPO } from './lib/lab.ts';
import { BENCHMARK_NAMES, type BenchmarkName, type Options, parseOptions, USAGE, UsageError } from './lib/options.ts';
import { type BenchResult, formatTable, toJson } from './lib/results.ts';
import { ready } from './ready.ts';
import { reconnect } from './reconnect.ts';
import { site } from './site.ts';
import { verdict } from './verdict.ts';

/** Each benchmark by name; the order they run in is BENCHMARK_NAMES'. */
const BENCHMARKS: Record<BenchmarkName, (lab: Lab) => Promise<BenchResult[]>> = {
  ready,
  echo,
  bulk,
  check,
  verdict,
  concurrency,
  burst,
  capacity,
  site,
  reconnect,
};

const SIZE_FLAGS = ['samples', 'exercises', 'levels', 'seconds', 'rampStep', 'rampMax'] as const;

/** The local cluster unless a kubeconfig is given: `cluster.sh up` is idempotent and quick when it already runs. */
function ensureCluster(): void {
  if (process.env.KUBECONFIG || process.env.SIDECAR_LAB_CLUSTER === 'kubeconfig') return;
  const script = join(REPO, 'sandbox-server/cluster/local/cluster.sh');
  execFileSync('bash', [script, 'up'], { stdio: ['ignore', process.stderr, process.stderr] });
  process.env.KUBECONFIG = execFileSync('bash', [script, 'kubeconfig'], { encoding: 'utf8' }).trim();
}

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    loadAverageAtStart: os.loadavg(),
  };
}

async function kubernetes(lab: Lab) {
  const version = await lab.kube.rest.json<VersionInfo>({ path: '/version' });
  const nodes = await lab.kube.core.listNode();
  const namespaces = await lab.kube.core.listNamespace();
  return {
    version: version.gitVersion,
    nodes: nodes.items.length,
    // Other people's sandboxes and tests share the cluster; how many namespaces existed says how quiet it was.
    namespacesAtStart: namespaces.items.length,
  };
}

async function cleanUp(lab: Lab, wait: boolean): Promise<void> {
  await Promise.all([...lab.servers].map((s) => s.stop()));
  await lab.tracker.deleteAll({ wait, timeoutMs: 180_000 });
}

async function main(options: Options): Promise<number> {
  ensureCluster();
  const lab = createLab(options);
  const out = resolve(options.out ?? join(REPO, 'bench-results'));
  const selected = BENCHMARK_NAMES.filter((name) => options.only.length === 0 || options.only.includes(name)).map(
    (name) => ({ name, run: BENCHMARKS[name] }),
  );

  // Ctrl-C still deletes every namespace the bench made and stops its servers.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, cleaning up…\n`);
    void cleanUp(lab, false).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const report = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    durationMs: 0,
    // "custom" when any size was set on the command line: not the full run the README's numbers come from.
    mode: options.quick ? 'quick' : SIZE_FLAGS.some((k) => options[k] !== undefined) ? 'custom' : 'full',
    options,
    machine: machine(),
    kubernetes: await kubernetes(lab),
    benchmarks: [] as Array<{ name: string; status: 'ok' | 'failed'; durationMs: number; error?: string }>,
    results: [] as BenchResult[],
  };
  const started = performance.now();
  try {
    for (const benchmark of selected) {
      process.stderr.write(`bench: ${benchmark.name}…\n`);
      const t0 = performance.now();
      try {
        const results = await benchmark.run(lab);
        report.results.push(...results);
        report.benchmarks.push({ name: benchmark.name, status: 'ok', durationMs: Math.round(performance.now() - t0) });
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`bench: ${benchmark.name} failed: ${message}\n`);
        report.benchmarks.push({
          name: benchmark.name,
          status: 'failed',
          durationMs: Math.round(performance.now() - t0),
          error: message,
        });
      }
      // A full run starts each benchmark on a cluster with no leftovers terminating in the background.
      await lab.tracker.deleteAll({ wait: !options.quick, keep: lab.keep });
    }
  } finally {
    await cleanUp(lab, !options.quick);
  }
  report.finishedAt = new Date().toISOString();
  report.durationMs = Math.round(performance.now() - started);
  Object.assign(report.machine, { loadAverageAtEnd: os.loadavg() });

  mkdirSync(out, { recursive: true });
  const file = join(out, `${report.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, toJson(report));
  const m = report.machine;
  console.log(
    `\nSidecar Lab bench (${report.mode}) — ${m.cores} cores, ${m.memoryGiB} GiB, Kubernetes ${report.kubernetes.version}, ` +
      `load ${m.loadAverageAtStart.map((l) => l.toFixed(1)).join('/')} at start, ${(report.durationMs / 1000).toFixed(0)} s\n`,
  );
  console.log(formatTable(report.results));
  // The capacity benchmark's sizing table, ready for the README.
  for (const row of report.results) {
    const table = row.details?.sizingTable;
    if (typeof table === 'string') console.log(`\nsizing (${row.name}, ${report.mode} run):\n${table}`);
  }
  const failed = report.benchmarks.filter((b) => b.status === 'failed');
  if (failed.length) console.log(`\nfailed: ${failed.map((b) => b.name).join(', ')} (see the JSON for the errors)`);
  console.log(`\nresults: ${file}`);
  return failed.length ? 1 : 0;
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
  const unknown = (options.exercises ?? []).filter((id) => !exerciseIds.includes(id));
  if (unknown.length) {
    throw new UsageError(
      `no exercise named ${unknown.map((id) => `"${id}"`).join(', ')} (there are: ${exerciseIds.join(', ')})`,
    );
  }
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
main(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
