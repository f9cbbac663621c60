// A room applying the course's first Pod at once: the seed `nginx-with-sidecar` (nginx:1.26 and an untagged busybox,
// so one pull per Pod under the default policy Always), watched until Ready across many sandboxes, with every failed
// pull the kubelet reported. Shared by the `burst` benchmark and its cluster test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../../src/cluster/kube.ts';
import { REPO } from './lab.ts';

export const SEED_POD = 'nginx-with-sidecar';

/** The seed manifest as the lesson shows it. */
export function seedYaml(): string {
  return readFileSync(join(REPO, 'lessons/manifests/seed-nginx-with-sidecar.yaml'), 'utf8');
}

/** What a container waiting on a failed pull shows. */
const PULL_WAITING = /^(ErrImagePull|ImagePullBackOff)$/;

export interface BurstWatch {
  /** Milliseconds from `t0` until each namespace's seed Pod was first seen Ready. */
  readyMs: Map<string, number>;
  /** Namespaces whose seed Pod was seen with a container waiting in ErrImagePull or ImagePullBackOff. */
  pullWaiting: Set<string>;
  /** Namespaces whose seed Pod was not Ready when the watch gave up. */
  pending: string[];
}

const isReady = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * Polls (one list call for every namespace) until the seed Pod (or the Pod named `pod`) of each of `namespaces` is
 * Ready or `timeoutMs` passes. A Pod that is being deleted (an earlier round's) does not count.
 */
export async function watchSeedPods(
  kube: Kube,
  namespaces: readonly string[],
  t0: number,
  timeoutMs: number,
  intervalMs = 250,
  pod = SEED_POD,
): Promise<BurstWatch> {
  const wanted = new Set(namespaces);
  const watch: BurstWatch = { readyMs: new Map(), pullWaiting: new Set(), pending: [] };
  const deadline = t0 + timeoutMs;
  while (watch.readyMs.size < wanted.size && performance.now() < deadline) {
    const list = await kube.core.listPodForAllNamespaces({ fieldSelector: `metadata.name=${pod}` });
    const seen = performance.now() - t0;
    for (const pod of list.items) {
      const ns = pod.metadata?.namespace ?? '';
      if (!wanted.has(ns) || pod.metadata?.deletionTimestamp) continue;
      const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
      if (statuses.some((s) => PULL_WAITING.test(s.state?.waiting?.reason ?? ''))) watch.pullWaiting.add(ns);
      if (isReady(pod) && !watch.readyMs.has(ns)) watch.readyMs.set(ns, seen);
    }
    if (watch.readyMs.size < wanted.size) await new Promise((r) => setTimeout(r, intervalMs));
  }
  watch.pending = namespaces.filter((ns) => !watch.readyMs.has(ns));
  return watch;
}

interface EventList {
  items: Array<{
    metadata: { namespace?: string };
    reason?: string;
    message?: string;
    count?: number;
    lastTimestamp?: string;
    eventTime?: string;
  }>;
}

/** A Go duration as the kubelet prints it ("45ms", "1.2s", "1m3.5s", "800µs") in milliseconds. */
export function goDurationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, µs: 0.001, us: 0.001, ns: 1e-6 };
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/([\d.]+)(h|ms|m|s|µs|us|ns)/g)) ms += Number(n) * units[unit!]!;
  return ms;
}

export interface PullEvents {
  /** Failed pulls ("Failed to pull image …"), with their distinct messages (a few). */
  failed: number;
  messages: string[];
  /** Each successful pull: the runtime's time, and the kubelet's including its wait for a pull slot. */
  pulledMs: number[];
  waitedMs: number[];
}

/** The pulls the kubelet reported for the seed Pods (or Pods named `pod`) of `namespaces` since `sinceWall` (epoch ms). */
export async function pullEvents(
  kube: Kube,
  namespaces: readonly string[],
  sinceWall: number,
  pod = SEED_POD,
): Promise<PullEvents> {
  const wanted = new Set(namespaces);
  const events = await kube.rest.json<EventList>({
    path: '/api/v1/events',
    query: { fieldSelector: `involvedObject.name=${pod}` },
  });
  // Event times have second precision: a second of slack keeps this round's first events in.
  const recent = events.items.filter(
    (e) =>
      wanted.has(e.metadata.namespace ?? '') && Date.parse(e.lastTimestamp ?? e.eventTime ?? '') >= sinceWall - 1000,
  );
  const failures = recent.filter((e) => e.reason === 'Failed' && (e.message ?? '').startsWith('Failed to pull image'));
  const result: PullEvents = {
    failed: failures.reduce((sum, e) => sum + (e.count ?? 1), 0),
    messages: [...new Set(failures.map((e) => e.message ?? ''))].slice(0, 3),
    pulledMs: [],
    waitedMs: [],
  };
  for (const e of recent) {
    const m = /^Successfully pulled image "[^"]*" in (\S+) \((\S+) including waiting\)/.exec(e.message ?? '');
    if (e.reason !== 'Pulled' || !m) continue;
    result.pulledMs.push(goDurationMs(m[1]!));
    result.waitedMs.push(goDurationMs(m[2]!));
  }
  return result;
}

/** Deletes the seed Pod in each namespace at once (no grace) and waits, bounded, until none is left. */
export async function deleteSeedPods(kube: Kube, namespaces: readonly string[], timeoutMs = 120_000): Promise<void> {
  await Promise.all(
    namespaces.map((namespace) =>
      kube.core.deleteNamespacedPod({ namespace, name: SEED_POD, gracePeriodSeconds: 0 }).catch(() => undefined),
    ),
  );
  const wanted = new Set(namespaces);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await kube.core.listPodForAllNamespaces({ fieldSelector: `metadata.name=${SEED_POD}` });
    const left = list.items.filter((p) => wanted.has(p.metadata?.namespace ?? ''));
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${left.length} seed Pods still there after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
