// A grading namespace gets a sandbox's lock-down (quota, defaults, network isolation, a learner identity), so an
// untrusted submission is applied with a learner's rights and stays inside the same fences.
import {
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
import { createKube, statusCode } from './kube.ts';
import type { KubeConfig } from './kubeconfig-file.ts';
import { LEARNER_SA } from './labels.ts';

/**
 * A grading run's budget: the sandbox blueprint's quota with fewer Pods (an exercise needs three at most), so a
 * submission that asks for a thousand replicas gets ten and cannot crowd the node.
 */
export const GRADING_BUDGET: SandboxBudget = { pods: 10, cpu: '2', memory: '2Gi' };

/** The user a submission's manifests are applied as: the namespace's learner ServiceAccount, as in a sandbox. */
export const gradingLearnerUser = (namespace: string) => `system:serviceaccount:${namespace}:${LEARNER_SA}`;

/** Egress addresses (DNS, API server) are the cluster's; looked up once per kubeconfig. */
const egressCache = new WeakMap<KubeConfig, Promise<BlueprintInput['egress']>>();

/** Where a grading namespace's Pods may send DNS queries and API calls, as in a sandbox. */
export async function gradingEgress(kc: KubeConfig): Promise<BlueprintInput['egress']> {
  let egress = egressCache.get(kc);
  if (!egress) {
    egress = discoverEgress(createKube(kc));
    egressCache.set(kc, egress);
    egress.catch(() => egressCache.delete(kc)); // a failure is not cached
  }
  return egress;
}

/** The blueprint input for a grading namespace: no owner, no toolbox (its image is never used here). */
export function gradingBlueprintInput(
  namespace: string,
  expiresAt: Date,
  egress: BlueprintInput['egress'] = { dns: [], apiServer: [] },
): BlueprintInput {
  return { id: namespace, namespace, owner: '', expiresAt, toolboxImage: 'unused', budget: GRADING_BUDGET, egress };
}

/** The Pod Security labels a sandbox namespace carries (enforce baseline, warn and audit restricted). */
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
    rbac.createNamespacedRoleBinding({ namespace, body: learnerRoleBinding(input) as never }),
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

/**
 * The namespace's FailedCreate events: what the quota, LimitRange or Pod Security refused to controllers (a
 * Deployment's ReplicaSet, a Job) after the manifests themselves were accepted. One per object, its latest message.
 */
export async function controllerRefusals(kc: KubeConfig, namespace: string): Promise<ControllerRefusal[]> {
  const { core } = createKube(kc);
  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'reason=FailedCreate' });
  const byObject = new Map<string, ControllerRefusal>();
  for (const event of events.items) {
    const object = `${event.involvedObject.kind ?? '?'}/${event.involvedObject.name ?? '?'}`;
    const seen = byObject.get(object);
    const count = (seen?.count ?? 0) + (event.count ?? 1);
    byObject.set(object, { object, message: event.message ?? '', count });
  }
  return [...byObject.values()];
}
