// Concurrency: N learners, each with a live terminal typing five keys a second into `cat`; every keystroke's echo is
// timed. Compared with one learner typing alone on the same server; the server's CPU and RSS are read from /proc.
import type { Lab } from './lib/lab.ts';
import { BenchLearner, type SandboxView } from './lib/learner.ts';
import { cpuSeconds, peakRssMiB, pidsByName, resetPeakRss, rssMiB, sampleProcess } from './lib/proc.ts';
import { type BenchResult, resultOf, summarize, withTarget } from './lib/results.ts';
import type { ServerProcess } from './lib/server.ts';
import {
  detachStale,
  echoRoundTrip,
  LINE_KEYS,
  newLine,
  startCat,
  type Terminal,
  waitForQuiet,
} from './lib/terminal.ts';

/** A learner's typing rate; 5 keys a second is a brisk typist. */
const KEY_INTERVAL_MS = 200;
/** Toolbox CPU request (blueprint.ts): what the scheduler counts when deciding how many fit. */
const TOOLBOX_CPU_MILLI = 20;

interface Seat {
  learner: BenchLearner;
  sandbox: SandboxView;
}

function milli(quantity: string | undefined): number {
  if (!quantity) return 0;
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

/** How many more toolboxes the scheduler would place, by CPU requests (the tighter budget on this node). */
export async function toolboxesThatFit(lab: Pick<Lab, 'kube'>): Promise<number> {
  const nodes = await lab.kube.core.listNode();
  const allocatable = nodes.items.reduce((sum, n) => sum + milli(n.status?.allocatable?.cpu), 0);
  const pods = await lab.kube.core.listPodForAllNamespaces({
    fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
  });
  const requested = pods.items.reduce(
    (sum, p) => sum + (p.spec?.containers ?? []).reduce((s, c) => s + milli(c.resources?.requests?.cpu), 0),
    0,
  );
  return Math.max(0, Math.floor((allocatable - requested) / TOOLBOX_CPU_MILLI));
}

/** Provisions up to `wanted` sandboxes with `newSeat`, a few at a time; failures are counted, not fatal. */
async function provisionSeats(
  lab: Lab,
  newSeat: () => Promise<Seat>,
  wanted: number,
): Promise<{ seats: Seat[]; errors: string[] }> {
  const seats: Seat[] = [];
  const errors: string[] = [];
  const batch = lab.quick ? wanted : 5;
  for (let i = 0; i < wanted; i += batch) {
    const made = await Promise.allSettled(Array.from({ length: Math.min(batch, wanted - i) }, newSeat));
    for (const m of made) {
      if (m.status === 'fulfilled') seats.push(m.value);
      else errors.push(String(m.reason));
    }
    lab.log(`concurrency: ${seats.length}/${wanted} sandboxes ready`);
  }
  return { seats, errors };
}

/**
 * Opens terminals for `seats`, ten at a time (like a room arriving), each settled after tmux's attach redraw. Clients
 * left attached by earlier (closed) connections are detached first, so each session has one client, as on a first visit.
 */
export async function openAll(lab: Lab, seats: readonly Seat[]): Promise<Terminal[]> {
  const terminals: Terminal[] = [];
  for (let i = 0; i < seats.length; i += 10) {
    const opened = await Promise.all(
      seats.slice(i, i + 10).map(async (s) => {
        await detachStale(lab.kube, s.sandbox.namespace);
        const t = await s.learner.terminal(s.sandbox.id);
        await waitForQuiet(t, 200, 5000);
        return t;
      }),
    );
    terminals.push(...opened);
  }
  return terminals;
}

/** Every terminal types at KEY_INTERVAL_MS for `durationMs`; returns echo round trips and keys that never echoed. */
export async function typeTogether(terminals: readonly Terminal[], durationMs: number) {
  const samples: number[] = [];
  let lost = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    terminals.map(async (terminal) => {
      // Random phase: a room of learners does not press keys in step.
      await new Promise((r) => setTimeout(r, Math.random() * KEY_INTERVAL_MS));
      let i = 0;
      while (performance.now() < end) {
        const next = performance.now() + KEY_INTERVAL_MS;
        const key = LINE_KEYS[i++ % LINE_KEYS.length]!;
        try {
          samples.push(await echoRoundTrip(terminal, key));
        } catch {
          lost++;
        }
        if (key === LINE_KEYS.at(-1)) await newLine(terminal);
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await newLine(terminal);
    }),
  );
  return { samples, lost };
}

/** Seats every provisioned learner's session in `cat`; a session that does not answer is left out and counted. */
async function seatInCat(lab: Lab, provisioned: readonly Seat[]): Promise<{ seats: Seat[]; setupErrors: string[] }> {
  const seats: Seat[] = [];
  const setupErrors: string[] = [];
  for (let i = 0; i < provisioned.length; i += 10) {
    const started = await Promise.allSettled(
      provisioned.slice(i, i + 10).map(async (s) => {
        const t = await s.learner.terminal(s.sandbox.id);
        try {
          // A terminal that shows nothing for this long is dead to a learner too; quick mode gives up sooner.
          await startCat(t, lab.quick ? 10_000 : 30_000);
        } finally {
          await t.close();
        }
        return s;
      }),
    );
    for (const r of started) {
      if (r.status === 'fulfilled') seats.push(r.value);
      else setupErrors.push(String(r.reason).slice(0, 300));
    }
  }
  return { seats, setupErrors };
}

/** One learner typing alone: the baseline, taken before every level and after the last. */
async function typeAlone(lab: Lab, seat: Seat, durationMs: number) {
  const [terminal] = await openAll(lab, [seat]);
  const typed = await typeTogether([terminal!], durationMs);
  await terminal!.close();
  return typed;
}

/** The same server restarted (same data, secret and port): a fresh process whose RSS is the baseline of a level. */
async function freshServer(lab: Lab, server: ServerProcess): Promise<{ server: ServerProcess; rss: number }> {
  await server.stop();
  const fresh = await lab.startServer(0, server);
  // Idle: start-up work (cluster objects, the reaper's first sweep) done, no terminal open.
  await new Promise((r) => setTimeout(r, 2000));
  return { server: fresh, rss: rssMiB(fresh.pid) };
}

export async function concurrency(lab: Lab): Promise<BenchResult[]> {
  if (lab.options.url) return concurrencyAt(lab, lab.options.url);
  const levels = lab.options.levels ?? (lab.quick ? [2] : [10, 25, 50]);
  const durationMs = (lab.options.seconds ?? (lab.quick ? 3 : 20)) * 1000;
  let server = await lab.startServer(0);
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = rssMiB(server.pid);
  const fit = await toolboxesThatFit(lab);
  const wanted = Math.min(Math.max(...levels), fit);
  lab.log(`concurrency: ${fit} more toolboxes fit by CPU requests; provisioning ${wanted}`);
  const provisioned = await provisionSeats(lab, () => lab.newSandbox(server), wanted);
  const errors = provisioned.errors;
  if (provisioned.seats.length === 0) throw new Error(`no sandbox could be provisioned: ${errors.join('; ')}`);
  // Every session runs `cat` from now on, so the levels differ only in how many type at once.
  const { seats, setupErrors } = await seatInCat(lab, provisioned.seats);
  if (seats.length === 0) throw new Error(`no terminal answered: ${setupErrors.join('; ')}`);

  const rows: BenchResult[] = [];
  const apiServer = pidsByName('kube-apiserver')[0];
  // The baseline interleaves with the levels: alone, level, alone, level, …, alone; each level is compared with the
  // two solo blocks either side of it, so both sides of its ratio see the same stretch of background load.
  const solos = [await typeAlone(lab, seats[0]!, durationMs)];
  try {
    for (const level of levels) {
      const n = Math.min(level, seats.length);
      const fresh = await freshServer(lab, server);
      server = fresh.server;
      const terminals = await openAll(lab, seats.slice(0, n));
      const open = rssMiB(server.pid);
      resetPeakRss(server.pid);
      const sampler = sampleProcess(server.pid);
      const api0 = apiServer ? cpuSeconds(apiServer) : Number.NaN;
      const t0 = performance.now();
      const typed = await typeTogether(terminals, durationMs);
      const apiCores = apiServer ? (cpuSeconds(apiServer) - api0) / ((performance.now() - t0) / 1000) : Number.NaN;
      const usage = sampler.stop();
      const peak = peakRssMiB(server.pid);
      await Promise.all(terminals.map((t) => t.close()));
      solos.push(await typeAlone(lab, seats[0]!, durationMs));
      const around = solos.slice(-2);
      lab.log(
        `concurrency ${n}: echo p95 ${summarize(typed.samples, typed.lost).p95.toFixed(1)} ms, ${typed.lost} lost, ` +
          `server ${(usage.averageCores * 100).toFixed(0)}% of a core`,
      );
      rows.push(
        ...levelRows({
          level,
          n,
          typed,
          solo: {
            samples: around.flatMap((s) => s.samples),
            lost: around.reduce((sum, s) => sum + s.lost, 0),
          },
          usage,
          apiCores,
          memory: { freshMiB: fresh.rss, afterOpenMiB: open, peakMiB: peak },
          short:
            n < level
              ? `only ${n} of ${level} learners: ${fit} toolboxes fit by CPU requests, ${errors.length} failed to ` +
                `provision, ${setupErrors.length} terminals did not answer`
              : '',
          errors: { provisionErrors: errors.slice(0, 3), setupErrors: setupErrors.slice(0, 3) },
        }),
      );
    }
  } finally {
    await server.stop();
  }
  const solo = { samples: solos.flatMap((s) => s.samples), lost: solos.reduce((sum, s) => sum + s.lost, 0) };
  return [
    withTarget(
      resultOf({ name: 'concurrency', metric: 'server idle RSS (no terminal open)', unit: 'MiB' }, [idleRss]),
      '≤ 150 MB (DESIGN.md)',
      'p50',
      '<=',
      150e6 / 2 ** 20,
    ),
    resultOf(
      {
        name: 'concurrency',
        metric: `baseline: one learner typing alone (${solos.length} blocks, between the levels): echo`,
        unit: 'ms',
        failures: solo.lost,
      },
      solo.samples,
    ),
    ...rows,
  ];
}

interface LevelRun {
  level: number;
  n: number;
  typed: { samples: number[]; lost: number };
  solo: { samples: number[]; lost: number };
  usage: ReturnType<ReturnType<typeof sampleProcess>['stop']>;
  apiCores: number;
  memory: { freshMiB: number; afterOpenMiB: number; peakMiB: number };
  short: string;
  errors: Record<string, string[]>;
}

/** The rows of one level: echo (a key with no echo is a failure in the row), server CPU, RSS, RSS per terminal. */
function levelRows(run: LevelRun): BenchResult[] {
  const { level, n, usage, memory } = run;
  const label = n < level ? `${n} (of ${level})` : String(n);
  return [
    echoRow(run, label, { apiServerCores: run.apiCores }),
    resultOf(
      {
        name: 'concurrency',
        metric: `${label} learners typing: server CPU`,
        unit: '% core',
        details: { averagePercent: usage.averageCores * 100, apiServerPercent: run.apiCores * 100 },
      },
      usage.cpu.map((c) => c * 100),
    ),
    resultOf(
      { name: 'concurrency', metric: `${label} learners typing: server RSS`, unit: 'MiB', details: memory },
      usage.rss,
    ),
    withTarget(
      resultOf(
        {
          name: 'concurrency',
          metric: `${label} learners: server RSS per open terminal (from a freshly started server)`,
          unit: 'MiB',
        },
        [(Math.max(memory.afterOpenMiB, memory.peakMiB) - memory.freshMiB) / n],
      ),
      '≤ 1 MiB (DESIGN.md)',
      'p50',
      '<=',
      1,
    ),
  ];
}

/** A level's echo row: every keystroke's round trip, compared with one learner typing alone around it. */
function echoRow(
  run: Pick<LevelRun, 'n' | 'typed' | 'solo' | 'short' | 'errors'>,
  label: string,
  details: Record<string, unknown>,
  target = 'the same server',
): BenchResult {
  const { n, typed, solo } = run;
  const lost = typed.lost ? `${typed.lost} keystrokes got no echo within 5 s (failures, counted in p50/p95)` : '';
  return withTarget(
    resultOf(
      {
        name: 'concurrency',
        metric: `${label} learners typing: echo`,
        unit: 'ms',
        failures: typed.lost,
        details: { learners: n, lost: typed.lost, soloLost: solo.lost, ...details, ...run.errors },
        ...(run.short || lost ? { note: [run.short, lost].filter(Boolean).join('; ') } : {}),
      },
      typed.samples,
      {
        name: `one learner typing alone on ${target}, just before and just after this level`,
        value: summarize(solo.samples, solo.lost),
      },
      'p95',
    ),
    'p95 ≤ 100 ms',
    'p95',
    '<=',
    100,
  );
}

/**
 * The same levels against a server the bench did not start (--url), e.g. the deployment's Service spreading the
 * learners over its replicas. Its processes are out of reach, so only echo rows: no restart between levels, no CPU
 * or RSS. The server must allow the bench's Origin and enough sandboxes (README: "Running in Kubernetes").
 */
async function concurrencyAt(lab: Lab, url: string): Promise<BenchResult[]> {
  const levels = lab.options.levels ?? (lab.quick ? [2] : [10, 25, 50]);
  const durationMs = (lab.options.seconds ?? (lab.quick ? 3 : 20)) * 1000;
  const fit = await toolboxesThatFit(lab);
  const wanted = Math.min(Math.max(...levels), fit);
  lab.log(`concurrency at ${url}: ${fit} more toolboxes fit by CPU requests; provisioning ${wanted}`);
  const provisioned = await provisionSeats(
    lab,
    async () => {
      const learner = new BenchLearner(url);
      const sandbox = await learner.createSandbox();
      lab.tracker.track(sandbox.namespace);
      return { learner, sandbox };
    },
    wanted,
  );
  if (provisioned.seats.length === 0)
    throw new Error(`no sandbox could be provisioned: ${provisioned.errors.join('; ')}`);
  const { seats, setupErrors } = await seatInCat(lab, provisioned.seats);
  if (seats.length === 0) throw new Error(`no terminal answered: ${setupErrors.join('; ')}`);
  const solos = [await typeAlone(lab, seats[0]!, durationMs)];
  const rows: BenchResult[] = [];
  for (const level of levels) {
    const n = Math.min(level, seats.length);
    const terminals = await openAll(lab, seats.slice(0, n));
    const typed = await typeTogether(terminals, durationMs);
    await Promise.all(terminals.map((t) => t.close()));
    solos.push(await typeAlone(lab, seats[0]!, durationMs));
    const around = solos.slice(-2);
    lab.log(`concurrency ${n} at ${url}: echo p95 ${summarize(typed.samples, typed.lost).p95.toFixed(1)} ms`);
    const short =
      n < level
        ? `only ${n} of ${level} learners: ${fit} toolboxes fit by CPU requests, ${provisioned.errors.length} failed ` +
          `to provision, ${setupErrors.length} terminals did not answer`
        : '';
    rows.push(
      echoRow(
        {
          n,
          typed,
          solo: { samples: around.flatMap((s) => s.samples), lost: around.reduce((sum, s) => sum + s.lost, 0) },
          short,
          errors: { provisionErrors: provisioned.errors.slice(0, 3), setupErrors: setupErrors.slice(0, 3) },
        },
        n < level ? `${n} (of ${level})` : String(n),
        { url },
        url,
      ),
    );
  }
  return rows;
}
