// Cluster-wide objects the server needs once: its system namespace, the checker and learner roles, the admission
// policy.
import type { V1ClusterRole, V1PolicyRule } from '@kubernetes/client-node';
import {
  admissionPolicy,
  admissionPolicyBinding,
  CHECKER_CLUSTER_ROLE,
  checkerConfigMapWrite,
  learnerClusterRole,
  roleRevisionAnnotation,
} from './blueprint.ts';
import { createIdempotent, isNotFound, type Kube } from './kube.ts';
import { ANNOTATIONS, CHECKER_SA, LABELS, SYSTEM_NAMESPACE } from './labels.ts';

const managed = { [LABELS.managed]: 'true' };

/** Read-only on a namespace, plus exec for behaviour probes and `checkerConfigMapWrite`: what a check may do. */
export const checkerClusterRole: V1ClusterRole = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: CHECKER_CLUSTER_ROLE, labels: managed, annotations: roleRevisionAnnotation },
  rules: [
    {
      apiGroups: [''],
      resources: ['pods', 'pods/log', 'events', 'services', 'configmaps', 'endpoints', 'resourcequotas'],
      verbs: ['get', 'list', 'watch'],
    },
    { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
    checkerConfigMapWrite,
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
  ],
};

async function upsert(read: () => Promise<unknown>, create: () => Promise<unknown>, replace: () => Promise<unknown>) {
  try {
    await read();
    await replace();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await createIdempotent(create);
  }
}

type RoleAction = 'create' | 'replace' | 'keep';

/**
 * What a server with our rules does to the role it finds: leaves a newer server's rules alone, leaves equal rules
 * alone (a server deployed with least privilege may not update roles whose rights it does not hold), and otherwise
 * writes ours — older rules, or rules someone changed by hand.
 */
export function roleAction(current: V1ClusterRole | undefined, ours: V1ClusterRole): RoleAction {
  if (!current) return 'create';
  const theirs = revisionOf(current);
  if (theirs > revisionOf(ours)) return 'keep';
  return theirs === revisionOf(ours) && sameRules(current.rules ?? [], ours.rules ?? []) ? 'keep' : 'replace';
}

/** A role written before revisions existed counts as revision 0. */
function revisionOf(role: V1ClusterRole): number {
  const value = Number(role.metadata?.annotations?.[ANNOTATIONS.rulesRevision] ?? '0');
  return Number.isSafeInteger(value) ? value : 0;
}

async function ensureClusterRole(kube: Kube, role: V1ClusterRole): Promise<void> {
  const name = role.metadata!.name!;
  const current = await kube.rbac.readClusterRole({ name }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  const action = roleAction(current, role);
  if (action === 'create') await createIdempotent(() => kube.rbac.createClusterRole({ body: role }));
  if (action === 'replace') await kube.rbac.replaceClusterRole({ name, body: role });
}

/** Rules as the API server returns them (it drops empty lists) compared with ours. */
export function sameRules(a: readonly V1PolicyRule[], b: readonly V1PolicyRule[]): boolean {
  const canonical = (rules: readonly V1PolicyRule[]) =>
    JSON.stringify(
      rules.map((r) => ({
        apiGroups: r.apiGroups ?? [],
        resources: r.resources ?? [],
        resourceNames: r.resourceNames ?? [],
        nonResourceURLs: r.nonResourceURLs ?? [],
        verbs: r.verbs,
      })),
    );
  return canonical(a) === canonical(b);
}

/**
 * Puts the learner's ClusterRole back in step with ours. Servers of two versions sharing a cluster (a rolling update)
 * each write their own rules at start-up; a right one of them lacks (`pods/proxy` for previews) is restored on use.
 */
export const ensureLearnerClusterRole = (kube: Kube) => ensureClusterRole(kube, learnerClusterRole);

export async function ensureClusterObjects(kube: Kube, allowedImages: string[], toolboxImage: string): Promise<void> {
  await createIdempotent(() =>
    kube.core.createNamespace({
      body: { metadata: { name: SYSTEM_NAMESPACE, labels: { 'sidecar-lab.dev/system': 'true' } } },
    }),
  );
  await createIdempotent(() =>
    kube.core.createNamespacedServiceAccount({
      namespace: SYSTEM_NAMESPACE,
      body: { metadata: { name: CHECKER_SA, labels: managed }, automountServiceAccountToken: false },
    }),
  );
  for (const role of [checkerClusterRole, learnerClusterRole]) await ensureClusterRole(kube, role);
  const policy = admissionPolicy(allowedImages, toolboxImage);
  const name = policy.metadata!.name!;
  await upsert(
    () => kube.admission.readValidatingAdmissionPolicy({ name }),
    () => kube.admission.createValidatingAdmissionPolicy({ body: policy }),
    async () => {
      const current = await kube.admission.readValidatingAdmissionPolicy({ name });
      policy.metadata!.resourceVersion = current.metadata?.resourceVersion;
      await kube.admission.replaceValidatingAdmissionPolicy({ name, body: policy });
    },
  );
  const binding = admissionPolicyBinding();
  await createIdempotent(() => kube.admission.createValidatingAdmissionPolicyBinding({ body: binding }));
}

/** Where learners' Pods may send DNS queries and API calls, read from the cluster's own Services. */
export async function discoverEgress(
  kube: Kube,
): Promise<{ dns: string[]; apiServer: Array<{ ip: string; port: number }> }> {
  const addresses = async (namespace: string, service: string) => {
    const slices = await kube.discovery.listNamespacedEndpointSlice({
      namespace,
      labelSelector: `kubernetes.io/service-name=${service}`,
    });
    return slices.items.flatMap((s) =>
      (s.endpoints ?? []).flatMap((e) => e.addresses.map((ip) => ({ ip, port: s.ports?.[0]?.port ?? 443 }))),
    );
  };
  const [api, dns] = await Promise.all([addresses('default', 'kubernetes'), addresses('kube-system', 'kube-dns')]);
  return { apiServer: api, dns: [...new Set(dns.map((d) => d.ip))] };
}
