// Reading Pods the way a learner thinks of them: containers by name (plain or native sidecar), states, evidence.
import type { Container, ContainerStatus, Pod, PodSpec, Probe } from '../model.ts';

/** Where a container is declared: a regular container, a native sidecar, or a plain init container. */
export type ContainerRole = 'container' | 'native-sidecar' | 'init';

/** A container of a Pod spec with its status (if the kubelet reported one). */
export interface FoundContainer {
  spec: Container;
  role: ContainerRole;
  status: ContainerStatus | undefined;
}

/** True for an init container with `restartPolicy: Always`: a native sidecar. */
export const isNativeSidecar = (c: Container) => c.restartPolicy === 'Always';

/** Finds a container by name among regular and init containers. */
export function findContainer(pod: Pod, name: string): FoundContainer | undefined {
  const regular = pod.spec.containers.find((c) => c.name === name);
  if (regular) {
    return { spec: regular, role: 'container', status: pod.status.containerStatuses.find((s) => s.name === name) };
  }
  const init = pod.spec.initContainers.find((c) => c.name === name);
  if (init) {
    return {
      spec: init,
      role: isNativeSidecar(init) ? 'native-sidecar' : 'init',
      status: pod.status.initContainerStatuses.find((s) => s.name === name),
    };
  }
  return undefined;
}

/** Every container that runs alongside the others: regular ones and native sidecars, in declaration order. */
export function longRunningContainers(spec: PodSpec): Array<{ spec: Container; role: ContainerRole }> {
  return [
    ...spec.initContainers.filter(isNativeSidecar).map((c) => ({ spec: c, role: 'native-sidecar' as const })),
    ...spec.containers.map((c) => ({ spec: c, role: 'container' as const })),
  ];
}

/** Names of the containers a learner would list, for messages like "found: main-app, logger". */
export function containerNames(pod: Pod): string[] {
  return [...pod.spec.initContainers.map((c) => c.name), ...pod.spec.containers.map((c) => c.name)];
}

/** A container's state in a few words: "running", "waiting (CrashLoopBackOff)", "exited with code 1". */
export function describeState(status: ContainerStatus | undefined): string {
  if (!status) return 'not started yet';
  const { running, waiting, terminated } = status.state;
  if (running) return 'running';
  if (waiting) return `waiting (${waiting.reason ?? 'starting'})`;
  if (terminated) return `exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`;
  return 'in an unknown state';
}

/** Waiting reasons that will not fix themselves: waiting longer is pointless. */
export const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreCreateHookError',
  'PostStartHookError',
]);

/** Why a container that is not running will not start by itself, in the learner's terms; undefined if it may. */
export function stuckExplanation(name: string, found: FoundContainer): string | undefined {
  const waiting = found.status?.state.waiting;
  if (!waiting?.reason || !STUCK_REASONS.has(waiting.reason)) return undefined;
  switch (waiting.reason) {
    case 'ErrImagePull':
    case 'ImagePullBackOff':
    case 'InvalidImageName':
    case 'ErrImageNeverPull':
      return `${name} cannot start: its image "${found.spec.image ?? ''}" cannot be pulled (${waiting.reason}). Check the image name and tag.`;
    case 'CrashLoopBackOff':
      return `${name} keeps exiting and Kubernetes is backing off before restarting it (CrashLoopBackOff). Look at \`kubectl logs <pod> -c ${name} --previous\`.`;
    default:
      return `${name} cannot start (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}).`;
  }
}

/** The API server mounts a token volume into Pods of ServiceAccounts that allow it; learners did not write it. */
const isInjectedTokenMount = (m: { name: string; mountPath: string }) =>
  m.name.startsWith('kube-api-access-') || m.mountPath.startsWith('/var/run/secrets/kubernetes.io/');

/** The container's volume mounts as the learner wrote them (without the injected API token). */
export const learnerMounts = (container: Container) => container.volumeMounts.filter((m) => !isInjectedTokenMount(m));

/** Mounts of `container` whose mount path is `path` or a folder above it. */
export function mountsCovering(container: Container, path: string) {
  return container.volumeMounts.filter((m) => {
    const base = m.mountPath.replace(/\/+$/, '') || '/';
    return path === base || path.startsWith(base === '/' ? '/' : `${base}/`);
  });
}

/** A compact view of one container's spec and status, for evidence. */
export function containerEvidence(found: FoundContainer) {
  const { spec, role, status } = found;
  return {
    name: spec.name,
    role,
    image: spec.image,
    command: spec.command,
    args: spec.args,
    ports: spec.ports.length ? spec.ports : undefined,
    volumeMounts: learnerMounts(spec).length ? learnerMounts(spec) : undefined,
    readinessProbe: spec.readinessProbe,
    resources:
      Object.keys(spec.resources.requests).length || Object.keys(spec.resources.limits).length
        ? spec.resources
        : undefined,
    restartPolicy: spec.restartPolicy,
    status: status && {
      ready: status.ready,
      started: status.started,
      restartCount: status.restartCount,
      state: status.state,
      lastState: Object.keys(status.lastState).length ? status.lastState : undefined,
    },
  };
}

/** A compact view of a Pod (phase, conditions, every container), for evidence. */
export function podEvidence(pod: Pod) {
  const containers = containerNames(pod)
    .map((name) => findContainer(pod, name))
    .filter((c): c is FoundContainer => c !== undefined)
    .map(containerEvidence);
  return {
    pod: pod.metadata.name,
    phase: pod.status.phase,
    podIP: pod.status.podIP,
    conditions: pod.status.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`),
    volumes: pod.spec.volumes.filter((v) => !v.name.startsWith('kube-api-access-')),
    containers,
  };
}

/** True when the Pod's Ready condition is True. */
export const podReady = (pod: Pod) => pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

/** A probe in a few words: "httpGet :80/", "exec test -f /x", "tcpSocket :80". */
export function describeProbeSpec(probe: Probe): string {
  if (probe.httpGet) return `httpGet :${probe.httpGet.port}${probe.httpGet.path ?? '/'}`;
  if (probe.tcpSocket) return `tcpSocket :${probe.tcpSocket.port}`;
  if (probe.exec) return `exec ${probe.exec.command.join(' ')}`;
  if (probe.grpc) return `grpc :${probe.grpc.port}`;
  return 'a probe without a handler';
}
