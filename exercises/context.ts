// Builds a CheckContext from a cluster reader: the waiting helpers, bounded by the check's deadline.
import type { CheckContext, ClusterReader } from './model.ts';

/** The parts of a context that are not cluster calls. */
export interface ContextScope {
  namespace: string;
  answer?: string;
  /** Epoch milliseconds; `sleep` and `waitFor` never run past it. */
  deadline: number;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Wraps `reader` into a CheckContext whose `sleep` and `waitFor` stop at `scope.deadline`. The runner calls this
 * once per check with that check's deadline; cluster adapters call it once with a default one.
 */
export function makeCheckContext(reader: ClusterReader, scope: ContextScope): CheckContext {
  const { deadline } = scope;
  const remaining = () => deadline - Date.now();
  return {
    namespace: scope.namespace,
    ...(scope.answer === undefined ? {} : { answer: scope.answer }),
    deadline,
    getPod: (name) => reader.getPod(name),
    listPods: (options) => reader.listPods(options),
    getJob: (name) => reader.getJob(name),
    listJobs: (options) => reader.listJobs(options),
    getResourceQuota: (name) => reader.getResourceQuota(name),
    logs: (pod, container, options) => reader.logs(pod, container, options),
    getConfigMap: (name) => reader.getConfigMap(name),
    patchConfigMapData: (name, data) => reader.patchConfigMapData(name, data),
    exec: (pod, container, argv, options) =>
      // A probe never gets more time than the check has left, so a hung command cannot eat the deadline.
      reader.exec(pod, container, argv, { timeoutMs: Math.max(500, Math.min(options.timeoutMs, remaining())) }),
    sleep: (ms) => delay(Math.min(ms, remaining())),
    async waitFor(probe, { timeoutMs, intervalMs = 250 }) {
      // Leave a little room before the deadline so the check can still phrase its verdict.
      const until = Math.min(Date.now() + timeoutMs, deadline - 200);
      for (;;) {
        const value = await probe();
        if (value !== undefined && value !== null && value !== false) return { ok: true, value };
        if (Date.now() + intervalMs > until) return { ok: false, last: value };
        await delay(intervalMs);
      }
    },
  };
}
