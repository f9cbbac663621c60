// Building blocks shared by the exercises' checks: verdict helpers and checks every Pod exercise starts with.
import type { CheckContext, CheckDefinitionInput, CheckOutcome, Evidence, Pod } from '../model.ts';
import { pullRetrying, StillStartingError, stillStartingMessage } from './image-pull.ts';
import {
  containerEvidence,
  containerNames,
  describeState,
  type FoundContainer,
  findContainer,
  podEvidence,
  stuckExplanation,
} from './pods.ts';

/** A passing verdict. */
export const pass = (message: string, evidence: Evidence = {}): CheckOutcome => ({ status: 'pass', message, evidence });
/** A failing verdict, worded for the learner. */
export const fail = (message: string, evidence: Evidence = {}): CheckOutcome => ({ status: 'fail', message, evidence });

/** Bounds for every log read a check makes. */
export const LOG_BOUNDS = { tailLines: 200, limitBytes: 64 * 1024 } as const;

/** Runs `fn` with the named Pod, or fails saying it is gone (it existed when an earlier check looked). */
export function withPod(
  name: string,
  fn: (pod: Pod, ctx: CheckContext) => Promise<CheckOutcome> | CheckOutcome,
): (ctx: CheckContext) => Promise<CheckOutcome> {
  return async (ctx) => {
    const pod = await ctx.getPod(name);
    if (!pod) return fail(`The Pod "${name}" is gone; create it again.`);
    return fn(pod, ctx);
  };
}

/** The image's repository name without registry, path or tag: "docker.io/library/nginx:1.26" → "nginx". */
export function imageName(image: string | undefined): string {
  const withoutDigest = (image ?? '').split('@')[0] ?? '';
  const last = withoutDigest.split('/').pop() ?? '';
  return last.split(':')[0] ?? '';
}

/** Check: a Pod with this name exists (and is not being deleted). */
export function podExists(name: string): CheckDefinitionInput {
  return {
    id: 'pod-exists',
    title: `Pod "${name}" exists`,
    hint: `Check the name under metadata.name, then \`kubectl apply -f\` your file and \`kubectl get pods\`.`,
    async run(ctx) {
      const pod = await ctx.getPod(name);
      if (!pod) {
        const others = (await ctx.listPods()).map((p) => p.metadata.name);
        const found = others.length ? ` Pods in your namespace: ${others.join(', ')}.` : ' Your namespace has no Pods.';
        return fail(`There is no Pod named "${name}".${found}`, { pods: others });
      }
      if (pod.metadata.deletionTimestamp) {
        return fail(`The Pod "${name}" is being deleted; wait for it to go, then create it again.`, podEvidence(pod));
      }
      return pass(`Pod "${name}" exists.`, { pod: name, phase: pod.status.phase });
    },
  };
}

/** What a container must be, for `containersPresent`. */
export interface ContainerRequirement {
  name: string;
  /** Expected image repository name (e.g. "nginx"), whatever the registry and tag. */
  image?: string;
  /** May it be a native sidecar (an init container with restartPolicy: Always)? Default true for sidecars. */
  nativeAllowed?: boolean;
  /** Words for messages: "the sidecar", "the main container". */
  role?: string;
}

/** Checks one container requirement against a Pod; undefined when it holds. */
export function containerProblem(pod: Pod, req: ContainerRequirement): string | undefined {
  const found = findContainer(pod, req.name);
  if (!found) {
    return `The Pod has no container named "${req.name}" (it has: ${containerNames(pod).join(', ') || 'none'}).`;
  }
  if (found.role === 'init') {
    return `"${req.name}" is an init container without restartPolicy: Always, so it has to finish before the other containers start. Put it under containers, or give it restartPolicy: Always to make it a native sidecar.`;
  }
  if (found.role === 'native-sidecar' && req.nativeAllowed === false) {
    return `"${req.name}" is declared as an init container; ${req.role ?? 'it'} belongs under spec.containers.`;
  }
  if (req.image && imageName(found.spec.image) !== req.image) {
    return `"${req.name}" runs the image "${found.spec.image ?? ''}", but it should run ${req.image}.`;
  }
  return undefined;
}

/** Check: the Pod has these containers (a sidecar may be native unless told otherwise). */
export function containersPresent(
  pod: string,
  id: string,
  title: string,
  requirements: readonly ContainerRequirement[],
  hint?: string,
): CheckDefinitionInput {
  return {
    id,
    title,
    ...(hint ? { hint } : {}),
    requires: ['pod-exists'],
    run: withPod(pod, (p) => {
      const problems = requirements.map((r) => containerProblem(p, r)).filter((m): m is string => m !== undefined);
      const evidence = { pod: p.metadata.name, containers: podEvidence(p).containers };
      if (problems.length) return fail(problems.join(' '), evidence);
      return pass(`The Pod has ${requirements.map((r) => `"${r.name}"`).join(' and ')}.`, evidence);
    }),
  };
}

/** Why a container is not running and will not start by itself, or undefined if it may still start. */
function blocked(pod: Pod, name: string, found: FoundContainer): string | undefined {
  if (pullRetrying(pod, found)) return undefined; // the node retries the pull by itself (a room applying at once)
  const stuck = stuckExplanation(name, found);
  if (stuck) return stuck;
  const terminated = found.status?.state.terminated;
  const policy = pod.spec.restartPolicy ?? 'Always';
  const restarts =
    found.role === 'native-sidecar' || policy === 'Always' || (policy === 'OnFailure' && terminated?.exitCode !== 0);
  if (terminated && !restarts) {
    return `${name} ${describeState(found.status)} and will not be restarted (the Pod's restartPolicy is ${policy}); it should keep running.`;
  }
  if (pod.status.phase === 'Failed' || pod.status.phase === 'Succeeded') {
    return `The Pod has stopped (${pod.status.phase}); ${name} is ${describeState(found.status)}.`;
  }
  return undefined;
}

/**
 * Check: the named containers are all running. Waits (within the check's deadline) while they are starting, and
 * gives up at once when one cannot start by itself (bad image, crash loop).
 */
export function containersRunning(
  podName: string,
  names: readonly string[] | ((pod: Pod) => string[]),
  options: { id?: string; title?: string; requires?: string[]; timeoutMs?: number; hint?: string } = {},
): CheckDefinitionInput {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    id: options.id ?? 'containers-running',
    title: options.title ?? 'Every container is running',
    hint: options.hint ?? '`kubectl describe pod` shows why a container is not running (see Events at the bottom).',
    requires: options.requires ?? ['pod-exists'],
    timeoutMs,
    async run(ctx) {
      let pod: Pod | undefined;
      let wanted: string[] = [];
      const waited = await ctx.waitFor(
        async () => {
          pod = await ctx.getPod(podName);
          if (!pod) return { kind: 'gone' } as const;
          const current = pod;
          wanted = typeof names === 'function' ? names(current) : [...names];
          const found = wanted.map((name) => ({ name, found: findContainer(current, name) }));
          const stuck = found
            .map((f) => (f.found ? blocked(current, f.name, f.found) : `There is no container "${f.name}".`))
            .filter((m): m is string => m !== undefined);
          if (stuck.length) return { kind: 'stuck', stuck } as const;
          return found.every((f) => f.found?.status?.state.running) ? ({ kind: 'running' } as const) : false;
        },
        { timeoutMs: timeoutMs - 1000, intervalMs: 300 },
      );
      const current = pod;
      if (!current) return fail(`The Pod "${podName}" is gone; create it again.`);
      const evidence = {
        containers: wanted
          .map((name) => findContainer(current, name))
          .filter((f): f is FoundContainer => f !== undefined)
          .map(containerEvidence),
      };
      if (waited.ok && waited.value.kind === 'running') {
        return pass(`${wanted.join(' and ')} ${wanted.length > 1 ? 'are' : 'is'} running.`, evidence);
      }
      if (waited.ok && waited.value.kind === 'stuck') return fail(waited.value.stuck.join(' '), evidence);
      const retrying = wanted.flatMap((name) => {
        const found = findContainer(current, name);
        const cause = found && pullRetrying(current, found);
        return cause ? [{ name, image: found.spec.image ?? '', cause }] : [];
      });
      if (retrying.length) throw new StillStartingError(stillStartingMessage(retrying));
      const states = wanted.map((name) => `${name} is ${describeState(findContainer(current, name)?.status)}`);
      return fail(`Not everything is running yet: ${states.join(', ')}.`, evidence);
    },
  };
}
