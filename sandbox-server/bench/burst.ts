// Burst: N learners apply the seed `nginx-with-sidecar` Pod from their terminals at the same moment (a room following
// the instructor's "now apply it"); each Pod is timed until Ready, and every failed image pull is counted (goal 0).
// Compared with one learner applying alone on the same server, alternating with the room, round by round.
import { toolboxesThatFit } from './concurrency.ts';
import type { Lab } from './lib/lab.ts';
import type { BenchLearner, SandboxView } from './lib/learner.ts';
import { type BenchResult, resultOf, summarize, withTarget } from './lib/results.ts';
import { deleteSeedPods, pullEvents, SEED_POD, seedYaml, watchSeedPods } from './lib/seed-burst.ts';
import { shellAnswers, type Terminal, waitForQuiet, waitForText } from './lib/terminal.ts';

/** CPU requests of one learner here (LimitRange defaults, blueprint.ts): the toolbox and the seed Pod's two containers. */
const TOOLBOXES_PER_LEARNER = 3;
/** A Pod not Ready this long after the apply counts as never Ready (and is reported, not waited for). */
const READY_TIMEOUT_MS = 240_000;

interface Seat {
  learner: BenchLearner;
  sandbox: SandboxView;
  terminal: Terminal;
}

/** Opens the learner's terminal and writes the seed manifest to ~/seed.yaml there (untimed). */
export async function seat(learner: BenchLearner, sandbox: SandboxView): Promise<Seat> {
  const terminal = await learner.terminal(sandbox.id);
  await waitForQuiet(terminal, 200, 5000);
  await shellAnswers(terminal, 30_000, 2000);
  const nonce = Math.random().toString(36).slice(2, 10);
  const b64 = Buffer.from(seedYaml()).toString('base64');
  const written = waitForText(terminal, `W2-${nonce}`, 30_000);
  terminal.send(`echo ${b64} | base64 -d > seed.yaml; echo W$((1+1))-${nonce}\r`);
  await written;
  await waitForQuiet(terminal, 200, 3000);
  return { learner, sandbox, terminal };
}

/** One round: every seat types `kubectl apply` at once; resolves with each one's time to Ready and the failed pulls. */
async function round(lab: Lab, seats: readonly Seat[]) {
  const namespaces = seats.map((s) => s.sandbox.namespace);
  const sinceWall = Date.now();
  const t0 = performance.now();
  for (const s of seats) s.terminal.send('kubectl apply -f seed.yaml\r');
  const watch = await watchSeedPods(lab.kube, namespaces, t0, READY_TIMEOUT_MS);
  const pulls = await pullEvents(lab.kube, namespaces, sinceWall);
  await deleteSeedPods(lab.kube, namespaces);
  return { readySeconds: [...watch.readyMs.values()].map((ms) => ms / 1000), watch, pulls };
}

export async function burst(lab: Lab): Promise<BenchResult[]> {
  const levels = lab.quick ? [2] : [10, 30, 50];
  const rounds = lab.quick ? 1 : 2;
  const server = await lab.startServer(0);
  const fit = Math.floor((await toolboxesThatFit(lab)) / TOOLBOXES_PER_LEARNER);
  const wanted = Math.min(Math.max(...levels), fit);
  lab.log(`burst: ${fit} learners fit by CPU requests; seating ${wanted}`);
  const seats: Seat[] = [];
  const errors: string[] = [];
  for (let i = 0; i < wanted; i += 5) {
    const made = await Promise.allSettled(
      Array.from({ length: Math.min(5, wanted - i) }, async () => {
        const { learner, sandbox } = await lab.newSandbox(server);
        return seat(learner, sandbox);
      }),
    );
    for (const m of made) {
      if (m.status === 'fulfilled') seats.push(m.value);
      else errors.push(String(m.reason).slice(0, 300));
    }
    lab.log(`burst: ${seats.length}/${wanted} learners seated`);
  }
  if (seats.length === 0) throw new Error(`no learner could be seated: ${errors.join('; ')}`);

  const solo: number[] = [];
  const rows: BenchResult[] = [];
  try {
    // Levels the node cannot seat collapse into the largest one it can (measured once, labelled with the largest).
    const sizes = [...new Set(levels.map((level) => Math.min(level, seats.length)))];
    for (const n of sizes) {
      const level = Math.max(...levels.filter((l) => Math.min(l, seats.length) === n));
      const samples: number[] = [];
      const allReady: number[] = [];
      const failed: number[] = [];
      const messages = new Set<string>();
      const pullMs: number[] = [];
      const waitedMs: number[] = [];
      let pullWaiting = 0;
      let neverReady = 0;
      for (let r = 0; r < rounds; r++) {
        // Alternating: the learner alone, then the room, so both see the same background load.
        const alone = await round(lab, seats.slice(0, 1));
        solo.push(...alone.readySeconds);
        const room = await round(lab, seats.slice(0, n));
        samples.push(...room.readySeconds);
        allReady.push(Math.max(...room.readySeconds, 0));
        failed.push(room.pulls.failed + alone.pulls.failed);
        pullMs.push(...room.pulls.pulledMs);
        waitedMs.push(...room.pulls.waitedMs);
        for (const m of room.pulls.messages) messages.add(m);
        pullWaiting += room.watch.pullWaiting.size;
        neverReady += room.watch.pending.length;
        lab.log(
          `burst ${n}: all Ready in ${Math.max(...room.readySeconds, 0).toFixed(1)} s, ${room.pulls.failed} failed pulls ` +
            `(alone: ${alone.readySeconds[0]?.toFixed(1)} s)`,
        );
      }
      const label = n < level ? `${n} (of ${level})` : String(n);
      const short =
        n < level ? `only ${n} of ${level} learners: ${fit} fit by CPU requests, ${errors.length} failed to seat` : '';
      const notes = [
        short,
        neverReady ? `${neverReady} Pods not Ready within ${READY_TIMEOUT_MS / 1000} s` : '',
        messages.size ? `pull errors: ${[...messages].join(' | ')}` : '',
      ].filter(Boolean);
      rows.push(
        resultOf(
          {
            name: 'burst',
            metric: `${label} learners apply ${SEED_POD} at once: each Pod → Ready`,
            unit: 's',
            details: { learners: n, rounds, allReadySeconds: allReady, neverReady, seatErrors: errors.slice(0, 3) },
            ...(notes.length ? { note: notes.join('; ') } : {}),
          },
          samples,
          { name: 'one learner applying alone, same server, alternating', samples: solo },
        ),
        resultOf({ name: 'burst', metric: `${label} learners: all Ready (per round)`, unit: 's' }, allReady),
        withTarget(
          resultOf(
            {
              name: 'burst',
              metric: `${label} learners: failed pulls (per round)`,
              unit: 'pulls',
              details: { perRound: failed, podsSeenInErrImagePullOrBackOff: pullWaiting },
            },
            failed,
          ),
          '0 (T2-9)',
          'max',
          '<=',
          0,
        ),
        resultOf(
          {
            name: 'burst',
            metric: `${label} learners: each busybox pull (kubelet's "including waiting")`,
            unit: 'ms',
            details: { runtimeMs: summarize(pullMs), includingWaitMs: summarize(waitedMs) },
          },
          waitedMs,
        ),
      );
    }
  } finally {
    await Promise.all(seats.map((s) => s.terminal.close()));
    await server.stop();
  }
  return [resultOf({ name: 'burst', metric: 'baseline: one learner alone: Pod → Ready', unit: 's' }, solo), ...rows];
}
