// Capacity: learners are added step by step, each with a sandbox, a live terminal typing five keys a second, and the
// seed `nginx-with-sidecar` Pod applied from that terminal; every step all of them type together and their echo is
// timed. The ramp stops at the first step whose echo p95 passes 100 ms, whose sandbox fails to become ready, or whose
// seed Pod the node cannot run; the last good step, per core and per GiB, gives the README's sizing table.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { seat } from './burst.ts';
import { toolboxesThatFit, typeTogether } from './concurrency.ts';
import type { Lab } from './lib/lab.ts';
import { rssMiB, sampleProcess } from './lib/proc.ts';
import {
  capacityOf,
  ECHO_P95_LIMIT_MS,
  nextStepSize,
  type StepOutcome,
  type StopReason,
  sizingTable,
  stopAfter,
} from './lib/ramp.ts';
import { type BenchResult, resultOf, summarize, withTarget } from './lib/results.ts';
import { watchSeedPods } from './lib/seed-burst.ts';
import type { ServerProcess } from './lib/server.ts';
import { startCat, type Terminal } from './lib/terminal.ts';

/** A learner here is three CPU requests of a toolbox's size (the toolbox and the seed's two containers) and two Pods. */
const REQUESTS_PER_LEARNER = 3;
const PODS_PER_LEARNER = 2;
/** A seed Pod not Ready this long after its apply is one the node could not run. */
const POD_READY_TIMEOUT_MS = 180_000;

/** Memory the machine has in use (MemTotal − MemAvailable), GiB: what the node needs before any learner. */
function memoryUsedGiB(): number {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (kB('MemTotal') - kB('MemAvailable')) / 2 ** 20;
}

interface StatsSummary {
  pods?: Array<{ podRef: { namespace: string }; memory?: { workingSetBytes?: number } }>;
}

/**
 * Memory the learners' own Pods use (the kubelet's working set, summed over every node), GiB: what each learner costs,
 * unlike the machine's total, which moves with everything else running on a shared machine.
 */
async function learnerPodsGiB(lab: Lab, namespaces: ReadonlySet<string>): Promise<number> {
  const nodes = await lab.kube.core.listNode();
  let bytes = 0;
  for (const node of nodes.items) {
    const summary = await lab.kube.rest.json<StatsSummary>({
      path: `/api/v1/nodes/${node.metadata!.name}/proxy/stats/summary`,
    });
    for (const pod of summary.pods ?? []) {
      if (namespaces.has(pod.podRef.namespace)) bytes += pod.memory?.workingSetBytes ?? 0;
    }
  }
  return bytes / 2 ** 30;
}

/** Learners the node can still seat: by CPU requests and by its Pod count. */
async function learnersThatFit(lab: Lab): Promise<number> {
  const byRequests = Math.floor((await toolboxesThatFit(lab)) / REQUESTS_PER_LEARNER);
  const nodes = await lab.kube.core.listNode();
  const podsAllowed = nodes.items.reduce((sum, n) => sum + Number(n.status?.allocatable?.pods ?? 0), 0);
  const pods = await lab.kube.core.listPodForAllNamespaces({
    fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
  });
  return Math.min(byRequests, Math.floor((podsAllowed - pods.items.length) / PODS_PER_LEARNER));
}

/** Adds `count` learners: sandbox, terminal, seed.yaml applied from the shell, Pod Ready, then `cat` for typing. */
async function addLearners(lab: Lab, server: ServerProcess, count: number) {
  const made = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const { learner, sandbox } = await lab.newSandbox(server);
      return seat(learner, sandbox);
    }),
  );
  const seated = made.flatMap((m) => (m.status === 'fulfilled' ? [m.value] : []));
  const errors = made.flatMap((m) => (m.status === 'rejected' ? [String(m.reason).slice(0, 300)] : []));
  const t0 = performance.now();
  for (const s of seated) s.terminal.send('kubectl apply -f seed.yaml\r');
  const watch = await watchSeedPods(
    lab.kube,
    seated.map((s) => s.sandbox.namespace),
    t0,
    POD_READY_TIMEOUT_MS,
  );
  const typing: Terminal[] = [];
  for (const s of seated) {
    try {
      await startCat(s.terminal, 30_000);
      typing.push(s.terminal);
    } catch (error) {
      errors.push(`the shell did not take cat: ${String(error).slice(0, 200)}`);
    }
  }
  return {
    typing,
    errors,
    namespaces: seated.map((s) => s.sandbox.namespace),
    podsNotReady: watch.pending.length,
    podReadySeconds: [...watch.readyMs.values()],
  };
}

export async function capacity(lab: Lab): Promise<BenchResult[]> {
  const stepSize = lab.options.rampStep ?? (lab.quick ? 1 : 5);
  const max = lab.options.rampMax ?? (lab.quick ? 2 : 1000);
  const durationMs = (lab.options.seconds ?? (lab.quick ? 3 : 20)) * 1000;
  const cores = os.cpus().length;
  const server = await lab.startServer(0);
  const baseGiB = memoryUsedGiB();
  const serverRss0 = rssMiB(server.pid);
  const terminals: Terminal[] = [];
  const namespaces = new Set<string>();
  const steps: Step[] = [];
  let stop: StopReason | undefined;
  try {
    for (;;) {
      const size = nextStepSize(terminals.length, stepSize, max, await learnersThatFit(lab));
      if (size === 0) {
        stop =
          terminals.length >= max
            ? { kind: 'limit', message: `--ramp-max ${max} reached` }
            : { kind: 'pods', message: `the node has no room for another learner at ${terminals.length}` };
        break;
      }
      const added = await addLearners(lab, server, size);
      terminals.push(...added.typing);
      for (const ns of added.namespaces) namespaces.add(ns);
      const sampler = sampleProcess(server.pid);
      const typed = await typeTogether(terminals, durationMs);
      const usage = sampler.stop();
      const echo = summarize(typed.samples, typed.lost);
      const outcome = {
        learners: terminals.length + (size - added.typing.length),
        echoP95Ms: echo.p95,
        sandboxFailures: size - added.typing.length,
        podsNotReady: added.podsNotReady,
        machineGiB: memoryUsedGiB(),
        learnersGiB: (await learnerPodsGiB(lab, namespaces)) + (rssMiB(server.pid) - serverRss0) / 1024,
        serverCpuPercent: usage.averageCores * 100,
        lost: typed.lost,
        errors: added.errors.slice(0, 3),
      };
      steps.push(outcome);
      lab.log(
        `capacity ${outcome.learners}: echo p95 ${echo.p95.toFixed(1)} ms (${typed.lost} lost), ` +
          `learners' Pods and server growth ${(outcome.learnersGiB * 1024).toFixed(0)} MiB, server ${outcome.serverCpuPercent.toFixed(0)}% of a core`,
      );
      stop = stopAfter(outcome);
      if (stop) break;
    }
  } finally {
    await Promise.all(terminals.map((t) => t.close()));
    await server.stop();
  }
  return capacityRows({ steps, stop, cores, baseGiB });
}

interface Step extends StepOutcome {
  /** The machine's memory in use, GiB (moves with everything else on a shared machine). */
  machineGiB: number;
  /** What the learners cost: their Pods' working set and the server's RSS growth since before the first, GiB. */
  learnersGiB: number;
  serverCpuPercent: number;
  lost: number;
  errors: string[];
}

function capacityRows(run: {
  steps: readonly Step[];
  stop: StopReason | undefined;
  cores: number;
  baseGiB: number;
}): BenchResult[] {
  const { steps, stop, cores, baseGiB } = run;
  const learners = capacityOf(steps);
  // Memory each learner adds, at the largest step: memory is not what stops the ramp, so the step that stopped it
  // counts too (more learners, a steadier estimate).
  const last = steps.at(-1);
  const gibPerLearner = last && last.learners > 0 ? last.learnersGiB / last.learners : Number.NaN;
  const sizing = { perCore: learners / cores, perGiB: 1 / gibPerLearner, baseGiB };
  const stopNote = `stopped: ${stop?.message ?? 'no step ran'}`;
  const stepDetails = steps.map((s) => ({
    learners: s.learners,
    echoP95Ms: s.echoP95Ms,
    lost: s.lost,
    podsNotReady: s.podsNotReady,
    sandboxFailures: s.sandboxFailures,
    machineGiB: s.machineGiB,
    learnersGiB: s.learnersGiB,
    serverCpuPercent: s.serverCpuPercent,
    errors: s.errors,
  }));
  const canSize = learners > 0 && Number.isFinite(sizing.perGiB) && sizing.perGiB > 0;
  return [
    withTarget(
      resultOf(
        {
          name: 'capacity',
          metric: `learners within echo p95 ≤ ${ECHO_P95_LIMIT_MS} ms, every sandbox and seed Pod ready`,
          unit: 'learners',
          note: stopNote,
          details: { steps: stepDetails, stop, baseGiB, cores },
        },
        [learners],
      ),
      '≥ 50 on 2 cores (DESIGN.md)',
      'p50',
      '>=',
      25 * cores,
    ),
    resultOf({ name: 'capacity', metric: 'learners per core', unit: 'learners' }, [sizing.perCore]),
    resultOf(
      {
        name: 'capacity',
        metric: "learners per GiB (1 / each one's Pods + server growth)",
        unit: 'learners',
        note:
          `${baseGiB.toFixed(2)} GiB in use before the first learner (cluster, server, everything else on the machine); ` +
          `${(gibPerLearner * 1024).toFixed(0)} MiB more per learner at ${last?.learners ?? 0}`,
        ...(canSize ? { details: { sizingTable: sizingTable(sizing) } } : {}),
      },
      [sizing.perGiB],
    ),
  ];
}
