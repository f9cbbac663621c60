// The capacity ramp's decisions, apart from the cluster: when to stop, what the last good step says per core and per
// GiB, and the sizing table the README prints from it.

/** The echo p95 a room of typing learners must stay within (DESIGN.md). */
export const ECHO_P95_LIMIT_MS = 100;

/** What one step of the ramp saw, once its learners were seated and typing. */
export interface StepOutcome {
  /** Learners seated so far, this step's included. */
  learners: number;
  /** Echo p95 over every key typed in the step, keys with no echo counted as failures (infinitely slow). */
  echoP95Ms: number;
  /** Sandboxes this step asked for that did not become ready (POST failed or the shell never answered). */
  sandboxFailures: number;
  /** Seed Pods of this step not Ready in time (Pending: the node had no room for them). */
  podsNotReady: number;
}

export type StopReason =
  | { kind: 'echo'; message: string }
  | { kind: 'sandbox'; message: string }
  | { kind: 'pods'; message: string }
  | { kind: 'limit'; message: string };

/** Why the ramp stops after `step`, or undefined to go on: the first limit the step crossed. */
export function stopAfter(step: StepOutcome): StopReason | undefined {
  if (step.sandboxFailures > 0) {
    return { kind: 'sandbox', message: `${step.sandboxFailures} sandbox(es) did not become ready at ${step.learners}` };
  }
  if (step.podsNotReady > 0) {
    return {
      kind: 'pods',
      message: `${step.podsNotReady} seed Pod(s) not Ready at ${step.learners}: the node is full`,
    };
  }
  if (!(step.echoP95Ms <= ECHO_P95_LIMIT_MS)) {
    const p95 = Number.isFinite(step.echoP95Ms) ? `${step.echoP95Ms.toFixed(0)} ms` : 'a lost key';
    return { kind: 'echo', message: `echo p95 ${p95} > ${ECHO_P95_LIMIT_MS} ms at ${step.learners}` };
  }
  return undefined;
}

/**
 * How many learners the next step adds: `step`, fewer when `max` or the room the node has left (learners it can
 * still seat by Pod count and CPU requests) is closer. Zero means stop before trying: the node or the limit is reached.
 */
export function nextStepSize(seated: number, step: number, max: number, roomLeft: number): number {
  return Math.max(0, Math.min(step, max - seated, roomLeft));
}

/** Learners the node held within every limit: the last step that did not stop the ramp. */
export function capacityOf(steps: readonly StepOutcome[]): number {
  let good = 0;
  for (const step of steps) {
    if (stopAfter(step)) break;
    good = step.learners;
  }
  return good;
}

export interface Sizing {
  /** Learners per core of the node, at the capacity found. */
  perCore: number;
  /** Learners per GiB of memory: 1 / (memory each learner added). */
  perGiB: number;
  /** Memory in use before any learner (cluster, server, system), GiB. */
  baseGiB: number;
}

/** For a workshop of `learners`: the cores and GiB a node needs (whole cores; GiB rounded up to the next whole one). */
export function nodeFor(learners: number, sizing: Sizing): { cores: number; gib: number } {
  return {
    cores: Math.max(1, Math.ceil(learners / sizing.perCore)),
    gib: Math.ceil(sizing.baseGiB + learners / sizing.perGiB),
  };
}

/** The README's sizing table as markdown rows, one per workshop size. */
export function sizingTable(sizing: Sizing, sizes: readonly number[] = [10, 25, 50, 100]): string {
  const rows = sizes.map((n) => {
    const node = nodeFor(n, sizing);
    return `| ${n} | ${node.cores} | ${node.gib} |`;
  });
  return ['| workshop of | cores | GiB |', '| --- | --- | --- |', ...rows].join('\n');
}
