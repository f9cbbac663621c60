// Decides when freshly applied Pods and Jobs have settled (running, ready, finished, or stuck) so grading can begin.
import { isNativeSidecar, STUCK_REASONS } from './checks/pods.ts';
import type { ClusterReader, Container, ContainerStatus, Job, Pod } from './model.ts';

/** Whether one object has settled, and if not, what it is waiting for (for progress messages). */
export interface Settlement {
  settled: boolean;
  reason: string;
}

/** A plain init container that has run this long without finishing is taken to be one that never will. */
const INIT_STALL_MS = 5000;

const since = (iso: string | undefined, now: number) => (iso ? now - Date.parse(iso) : 0);

/**
 * True once a not-ready container's readiness probe has had time to report three times: one failed probe on a busy
 * node (a timeout) is not a verdict, a probe that fails three periods running is.
 */
export function probeHadItsChance(spec: Container, status: ContainerStatus, now: number): boolean {
  const probe = spec.readinessProbe;
  if (!probe) return false; // ready follows "started" within a moment; keep waiting
  const verdictMs =
    ((probe.initialDelaySeconds ?? 0) + 3 * Math.min(probe.periodSeconds ?? 10, 10) + (probe.timeoutSeconds ?? 1)) *
    1000;
  return since(status.state.running?.startedAt, now) > verdictMs + 2000;
}

/** Settlement of one Pod at time `now` (epoch ms). */
export function podSettlement(pod: Pod, now: number): Settlement {
  const { phase, conditions, containerStatuses, initContainerStatuses } = pod.status;
  const name = pod.metadata.name;
  if (pod.metadata.deletionTimestamp) return { settled: true, reason: `${name} is being deleted` };
  if (phase === 'Succeeded' || phase === 'Failed') return { settled: true, reason: `${name} ${phase}` };
  const statuses = [...initContainerStatuses, ...containerStatuses];
  const stuck = statuses.find((s) => s.state.waiting?.reason && STUCK_REASONS.has(s.state.waiting.reason));
  if (stuck) return { settled: true, reason: `${name}/${stuck.name} ${stuck.state.waiting?.reason}` };
  if (conditions.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable')) {
    return { settled: true, reason: `${name} cannot be scheduled` };
  }
  if (statuses.some((s) => s.restartCount > 0 || s.state.terminated)) {
    return { settled: true, reason: `${name} has a container that exited` };
  }
  if (phase === 'Pending') {
    const stalled = pod.spec.initContainers.find((c) => {
      const status = initContainerStatuses.find((s) => s.name === c.name);
      return !isNativeSidecar(c) && since(status?.state.running?.startedAt, now) > INIT_STALL_MS;
    });
    if (stalled) return { settled: true, reason: `${name}: init container ${stalled.name} does not finish` };
    return { settled: false, reason: `${name} is starting` };
  }
  if (conditions.some((c) => c.type === 'Ready' && c.status === 'True'))
    return { settled: true, reason: `${name} Ready` };
  const longRunning = [...pod.spec.initContainers.filter(isNativeSidecar), ...pod.spec.containers];
  const waiting = longRunning.filter((spec) => {
    const status = statuses.find((s) => s.name === spec.name);
    if (!status?.state.running) return true;
    return !status.ready && !probeHadItsChance(spec, status, now);
  });
  if (waiting.length === 0) return { settled: true, reason: `${name} running; its readiness probes have reported` };
  return { settled: false, reason: `${name} waits for ${waiting.map((c) => c.name).join(', ')}` };
}

/** Settlement of one Job, given the Pods it owns. */
export function jobSettlement(job: Job, pods: readonly Pod[], now: number): Settlement {
  const name = job.metadata.name;
  const done = job.status.conditions.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  if (done) return { settled: true, reason: `job ${name} ${done.type}` };
  if (pods.length === 0) return { settled: false, reason: `job ${name} has no Pod yet` };
  const pending = pods.map((p) => podSettlement(p, now)).filter((s) => !s.settled);
  if (pending.length) return { settled: false, reason: pending.map((s) => s.reason).join('; ') };
  return { settled: true, reason: `job ${name}: its Pods have settled` };
}

/** True when a Pod belongs to the named Job (by the labels the Job controller sets). */
export const ownedByJob = (pod: Pod, job: string) =>
  pod.metadata.labels['batch.kubernetes.io/job-name'] === job || pod.metadata.labels['job-name'] === job;

/** The outcome of waiting for a namespace to settle. */
export interface SettleResult {
  settled: boolean;
  /** What was still pending when time ran out (empty when settled). */
  pending: string[];
  waitedMs: number;
}

/** Polls the namespace until every Pod and Job has settled, or `timeoutMs` passes. */
export async function waitForSettled(
  reader: Pick<ClusterReader, 'listPods' | 'listJobs'>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<SettleResult> {
  const started = Date.now();
  const interval = options.intervalMs ?? 300;
  let pending: string[] = [];
  for (;;) {
    const [pods, jobs] = await Promise.all([reader.listPods(), reader.listJobs()]);
    const now = Date.now();
    pending = [
      ...pods.map((p) => podSettlement(p, now)),
      ...jobs.map((j) =>
        jobSettlement(
          j,
          pods.filter((p) => ownedByJob(p, j.metadata.name)),
          now,
        ),
      ),
    ]
      .filter((s) => !s.settled)
      .map((s) => s.reason);
    if (pending.length === 0) return { settled: true, pending: [], waitedMs: now - started };
    if (now - started + interval > options.timeoutMs) return { settled: false, pending, waitedMs: now - started };
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
