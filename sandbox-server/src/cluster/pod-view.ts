// Turns Pods as the API server sends them into the Pod picture's compact model (protocol/pod-view.ts).
import type { V1Container, V1ContainerStatus, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { ContainerKind, ContainerView, PodView } from '../protocol/pod-view.ts';
import { LABELS } from './labels.ts';

/** The blueprint's own Pods (the toolbox) are not the learner's and stay out of the picture. */
export function isLearnerPod(pod: V1Pod): boolean {
  return pod.metadata?.labels?.[LABELS.component] !== 'toolbox';
}

function stateOf(status: V1ContainerStatus | undefined): Pick<ContainerView, 'state' | 'reason' | 'exitCode'> {
  const state = status?.state;
  if (state?.running) return { state: 'running' };
  if (state?.terminated) {
    const { reason, exitCode } = state.terminated;
    return { state: 'terminated', ...(reason ? { reason } : {}), exitCode };
  }
  if (state?.waiting) return { state: 'waiting', ...(state.waiting.reason ? { reason: state.waiting.reason } : {}) };
  return { state: 'unknown' };
}

function lastTermination(status: V1ContainerStatus | undefined): string | undefined {
  const ended = status?.lastState?.terminated;
  if (!ended) return undefined;
  return `${ended.reason ?? 'ended'} (exit ${ended.exitCode})`;
}

function containerOf(container: V1Container, kind: ContainerKind, status: V1ContainerStatus | undefined) {
  const last = lastTermination(status);
  const view: ContainerView = {
    name: container.name,
    kind,
    image: container.image ?? '',
    ...stateOf(status),
    // Kubernetes reports a completed init container as ready; in the picture "ready" is about running ones only.
    ready: status?.ready === true && status.state?.running !== undefined,
    restarts: status?.restartCount ?? 0,
    ...(last ? { lastTermination: last } : {}),
    ports: (container.ports ?? []).map((p) => ({
      port: p.containerPort,
      protocol: p.protocol ?? 'TCP',
      ...(p.name ? { name: p.name } : {}),
    })),
    mounts: (container.volumeMounts ?? [])
      // The ServiceAccount token every container gets is noise in a picture about sharing volumes.
      .filter((m) => !m.name.startsWith('kube-api-access-'))
      .map((m) => ({ volume: m.name, path: m.mountPath, readOnly: m.readOnly === true })),
  };
  return view;
}

function volumeKind(volume: V1Volume): string {
  const kinds = Object.keys(volume).filter((key) => key !== 'name');
  return kinds[0] ?? 'emptyDir';
}

export function podViewOf(pod: V1Pod): PodView {
  const statuses = new Map<string, V1ContainerStatus>();
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    statuses.set(s.name, s);
  }
  const spec = pod.spec;
  const containers = [
    ...(spec?.initContainers ?? []).map((c) =>
      containerOf(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init', statuses.get(c.name)),
    ),
    ...(spec?.containers ?? []).map((c) => containerOf(c, 'app', statuses.get(c.name))),
  ];
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Pending',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    containers,
    volumes: (spec?.volumes ?? [])
      .filter((v) => !v.name.startsWith('kube-api-access-'))
      .map((v) => ({ name: v.name, kind: volumeKind(v) })),
  };
}

/** The learner's Pods in a stable order (by name), for one frame of the stream. */
export function podViewsOf(pods: Iterable<V1Pod>): PodView[] {
  return [...pods]
    .filter(isLearnerPod)
    .map(podViewOf)
    .sort((a, b) => a.name.localeCompare(b.name));
}
