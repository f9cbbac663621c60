// `npm run bench`: runs the benchmarks against the real cluster, prints a table, writes bench-results/<time>.json.
//   --quick            each benchmark once, small sizes (the smoke test in `npm test` runs this)
//   --only a,b         only these benchmarks (ready, echo, bulk, check, concurrency, burst, site, reconnect)
//   --out DIR          where the JSON goes (default bench-results/)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { VersionInfo } from '@kubernetes/client-node';
import { bulk } from './bulk.ts';
import { burst } from './burst.ts';
import { check } from './check.ts';
import { concurrency } from './concurrency.ts';
import { echo } from './echo.ts';
import { createLab, type Lab, REPO } from './lib/lab.ts';
import { type BenchResult, formatTable } from './lib/results.ts';
import { ready } from './ready.ts';
import { reconnect } from './reconnect.ts';
import { site } from './site.ts';

/** In the order they run: reconnect last, as it compares with ready's warm samples and kills servers. */
const BENCHMARKS: ReadonlyArray<{ name: string; run: (lab: Lab) => Promise<BenchResult[]> }> = [
  { name: 'ready', run: ready },
  { name: 'echo', run: echo },
  { name: 'bulk', run: bulk },
  { name: 'check', run: check },
  { name: 'concurrency', run: concurrency },
  { name: 'burst', run: burst },
  { name: 'site', run: site },
  { name: 'reconnect', run: reconnect },
];

interface Options {
  quick: boolean;
  only: string[];
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { quick: false, only: [], out: join(REPO, 'bench-results') };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (!v) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--quick') options.quick = true;
    else if (flag === '--only') options.only = value().split(',').filter(Boolean);
    else if (flag === '--out') options.out = resolve(value());
    else throw new Error(`unknown argument "${argv[i]}" (use --quick, --only NAME[,NAME], --out DIR)`);
  }
  const known = BENCHMARKS.map((b) => b.name);
  const unknown = options.only.filter((name) => !known.includes(name));
  if (unknown.length) throw new Error(`no benchmark named ${unknown.join(', ')} (there are: ${known.join(', ')})`);
  return options;
}

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

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  ensureCluster();
  const lab = createLab(options.quick);
  const selected = BENCHMARKS.filter((b) => options.only.length === 0 || options.only.includes(b.name));

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
    mode: options.quick ? 'quick' : 'full',
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

  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `${report.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const m = report.machine;
  console.log(
    `\nSidecar Lab bench (${report.mode}) — ${m.cores} cores, ${m.memoryGiB} GiB, Kubernetes ${report.kubernetes.version}, ` +
      `load ${m.loadAverageAtStart.map((l) => l.toFixed(1)).join('/')} at start, ${(report.durationMs / 1000).toFixed(0)} s\n`,
  );
  console.log(formatTable(report.results));
  const failed = report.benchmarks.filter((b) => b.status === 'failed');
  if (failed.length) console.log(`\nfailed: ${failed.map((b) => b.name).join(', ')} (see the JSON for the errors)`);
  console.log(`\nresults: ${file}`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
