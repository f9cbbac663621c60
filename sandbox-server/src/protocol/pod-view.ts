// The Pod picture's wire model: what the page draws of the learner's Pods, compact and validated on both ends. It is
// not a Pod: only what a learner looks at to understand sidecars (kinds and start order, state, mounts, ports).
// zod/mini, because the page parses every frame and the picture's chunk should stay small.
import * as z from 'zod/mini';

export const containerKind = z.enum(['init', 'sidecar', 'app']);
export type ContainerKind = z.infer<typeof containerKind>;

const count = z.int().check(z.minimum(0));

export const containerView = z.object({
  name: z.string(),
  /** `init` runs to completion first; `sidecar` is an init container with `restartPolicy: Always`; `app` a regular one. */
  kind: containerKind,
  image: z.string(),
  state: z.enum(['waiting', 'running', 'terminated', 'unknown']),
  /** Why it waits or ended (`CrashLoopBackOff`, `Completed`, `Error`), when Kubernetes says. */
  reason: z.optional(z.string()),
  exitCode: z.optional(z.int()),
  ready: z.boolean(),
  restarts: count,
  /** How the previous instance ended, when it restarted: the reason and exit code. */
  lastTermination: z.optional(z.string()),
  ports: z.array(z.object({ port: z.int(), protocol: z.string(), name: z.optional(z.string()) })),
  mounts: z.array(z.object({ volume: z.string(), path: z.string(), readOnly: z.boolean() })),
});
export type ContainerView = z.infer<typeof containerView>;

export const podView = z.object({
  name: z.string(),
  phase: z.string(),
  ready: z.boolean(),
  deleting: z.boolean(),
  /** In start order: init containers and native sidecars as declared, then the app containers. */
  containers: z.array(containerView),
  /** Volumes and their source kind (`emptyDir`, `configMap`, …). */
  volumes: z.array(z.object({ name: z.string(), kind: z.string() })),
});
export type PodView = z.infer<typeof podView>;

/** One frame of the stream: every Pod of the learner's namespace (the toolbox left out), by name. */
export const podsFrame = z.object({
  pods: z.array(podView),
  /** Server time when the frame was built (ms since the epoch), for latency measurements. */
  at: z.number(),
});
export type PodsFrame = z.infer<typeof podsFrame>;
