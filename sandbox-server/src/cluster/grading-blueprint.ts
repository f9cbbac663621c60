// A grading namespace gets a sandbox's lock-down (quota, defaults, network isolation, a learner identity), so an
// untrusted submission is applied with a learner's rights and stays inside the same fences.
import { configSchema } from '../config.ts';
import {
  admissionPolicy,
  admissionPolicyBinding,
  type BlueprintInput,
  learnerRole,
  learnerRoleBinding,
  learnerServiceAccount,
  limitRange,
  namespaceObject,
  networkPolicy,
  resourceQuota,
  type SandboxBudget,
} from './blueprint.ts';
import { discoverEgress } from './cluster-setup.ts';
import { createIdempotent, createKube, type Kube, statusCode } from './kube.ts';
import type { KubeConfig } from './kubeconfig-file.ts';
import { LEARNER_SA } from './labels.ts';

/**
 * A grading run's budget: the sandbox blueprint's quota with fewer Pods (an exercise needs three at most), so a
 * submission that asks for a thousand replicas gets a handful and cannot crowd the node.
 */
export const GRADING_BUDGET: SandboxBudget = { pods: 10, cpu: '2', memory: '2Gi' };

/** The user a submission's manifests are applied as: the namespace's learner ServiceAccount, as in a sandbox. */
export const gradingLearnerUser = (namespace: string) => `system:serviceaccount:${namespace}:${LEARNER_SA}`;

/** `fn` once per kubeconfig (and process); a failure is not kept, so the next call tries again. */
function oncePerConfig<T>(fn: (kc: KubeConfig) => Promise<T>): (kc: KubeConfig) => Promise<T> {
  const cache = new WeakMap<KubeConfig, Promise<T>>();
  return (kc) => {
    let result = cache.get(kc);
    if (!result) {
      result = fn(kc);
      cache.set(kc, result);
      result.catch(() => cache.delete(kc));
    }
    return result;
  };
}

/** Where a grading namespace's Pods may send DNS queries and API calls, as in a sandbox (the cluster's addresses). */
export const gradingEgress = oncePerConfig((kc) => discoverEgress(createKube(kc)));

/** The blueprint input for a grading namespace: no owner, no toolbox (its image is never used here). */
export function gradingBlueprintInput(
  namespace: string,
  expiresAt: Date,
  egress: BlueprintInput['egress'] = { dns: [], apiServer: [] },
): BlueprintInput {
  return { id: namespace, namespace, owner: '', expiresAt, toolboxImage: 'unused', budget: GRADING_BUDGET, egress };
}

/**
 * Makes sure the cluster-wide image policy exists (it covers every namespace labelled as ours), with the allow-list
 * of the server's settings (`SIDECAR_LAB_ALLOWED_IMAGES`, default busybox and nginx): the grading CLI may run
 * against a cluster no server has set up yet. A policy a server installed is never replaced.
 */
export const ensureImagePolicy = oncePerConfig(async (kc) => {
  const settings = configSchema
    .pick({ SIDECAR_LAB_ALLOWED_IMAGES: true, SIDECAR_LAB_TOOLBOX_IMAGE: true })
    .parse(process.env);
  const { admission } = createKube(kc);
  const policy = admissionPolicy(settings.SIDECAR_LAB_ALLOWED_IMAGES, settings.SIDECAR_LAB_TOOLBOX_IMAGE);
  await createIdempotent(() => admission.createValidatingAdmissionPolicy({ body: policy }));
  await createIdempotent(() => admission.createValidatingAdmissionPolicyBinding({ body: admissionPolicyBinding() }));
});

/** The Pod Security labels a sandbox namespace carries (enforce baseline, pinned to a version). */
export function podSecurityLabels(input: BlueprintInput): Record<string, string> {
  const labels = namespaceObject(input).metadata?.labels ?? {};
  return Object.fromEntries(Object.entries(labels).filter(([key]) => key.startsWith('pod-security.kubernetes.io/')));
}

/**
 * Creates a sandbox's fences in `input.namespace` — ResourceQuota, LimitRange, NetworkPolicy, and the learner
 * ServiceAccount with its Role — but no toolbox and no binding for the server's checker (grading has its own).
 */
export async function createLearnerFences(kc: KubeConfig, input: BlueprintInput): Promise<void> {
  const { core, rbac, net } = createKube(kc);
  const namespace = input.namespace;
  await Promise.all([
    core.createNamespacedResourceQuota({ namespace, body: resourceQuota(input) as never }),
    core.createNamespacedLimitRange({ namespace, body: limitRange(input) as never }),
    net.createNamespacedNetworkPolicy({ namespace, body: networkPolicy(input) as never }),
    core.createNamespacedServiceAccount({ namespace, body: learnerServiceAccount(input) as never }),
    rbac.createNamespacedRole({ namespace, body: learnerRole(input) as never }),
    rbac.createNamespacedRoleBinding({ namespace, body: learnerRoleBinding(input, 'Role') as never }),
  ]);
}

/**
 * Resolves once the learner may create Pods in `namespace` (the authorizer learns of a new RoleBinding a moment
 * after it is created), using a dry-run so nothing is left behind; false when it never may within `timeoutMs`.
 */
export async function learnerCanCreatePods(kc: KubeConfig, namespace: string, timeoutMs: number): Promise<boolean> {
  const { core } = createKube(kc.impersonating(gradingLearnerUser(namespace)));
  const until = Date.now() + timeoutMs;
  for (;;) {
    const allowed = await core.listNamespacedPod({ namespace, limit: 1 }).then(
      () => true,
      (error: unknown) => {
        if (statusCode(error) === 403) return false;
        throw error;
      },
    );
    if (allowed) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** One refusal a controller met after apply, e.g. a ReplicaSet whose next Pod would exceed the quota. */
export interface ControllerRefusal {
  /** `ReplicaSet/web-5d9c`, the object that tried. */
  object: string;
  /** The API server's message, e.g. `Error creating: pods "web-5d9c-x" is forbidden: exceeded quota: …`. */
  message: string;
  count: number;
}

/** How long the grader waits for a held-back ReplicaSet's refusal to be recorded as an event. */
const REFUSAL_EVENT_WAIT_MS = 30_000;

/**
 * The namespace's FailedCreate events: what the quota, LimitRange or Pod Security refused to controllers (a
 * Deployment's ReplicaSet, a Job) after the manifests themselves were accepted. One per object, its latest message.
 * The controller manager records events asynchronously, so a ReplicaSet still short of its Pods with no event yet is
 * waited for (bounded): a quick grade must not report a contained flood as nothing.
 */
export async function controllerRefusals(
  kc: KubeConfig,
  namespace: string,
  waitMs = REFUSAL_EVENT_WAIT_MS,
): Promise<ControllerRefusal[]> {
  const kube = createKube(kc);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const refusals = await failedCreates(kube, namespace);
    const replicaSets = await kube.apps.listNamespacedReplicaSet({ namespace });
    const unexplained = replicaSets.items.filter(
      (rs) =>
        (rs.status?.replicas ?? 0) < (rs.spec?.replicas ?? 1) &&
        !refusals.some((r) => r.object === `ReplicaSet/${rs.metadata?.name}`),
    );
    if (unexplained.length === 0 || Date.now() >= deadline) return refusals;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function failedCreates(kube: Kube, namespace: string): Promise<ControllerRefusal[]> {
  const events = await kube.core.listNamespacedEvent({ namespace, fieldSelector: 'reason=FailedCreate' });
  const byObject = new Map<string, ControllerRefusal>();
  for (const event of events.items) {
    const object = `${event.involvedObject.kind ?? '?'}/${event.involvedObject.name ?? '?'}`;
    const seen = byObject.get(object);
    const count = (seen?.count ?? 0) + (event.count ?? 1);
    byObject.set(object, { object, message: event.message ?? '', count });
  }
  return [...byObject.values()];
}
