// Typed calls for the API groups the server uses, named as the call sites know them (`core.readNamespace({ name })`).
import type {
  CoreV1EventList,
  V1ClusterRole,
  V1ConfigMap,
  V1EndpointSliceList,
  V1Job,
  V1JobList,
  V1Lease,
  V1LimitRange,
  V1Namespace,
  V1NamespaceList,
  V1NetworkPolicy,
  V1NodeList,
  V1Pod,
  V1PodList,
  V1ReplicaSetList,
  V1ResourceQuota,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
  V1Status,
  V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import type { ApiRequest, Query, RestClient } from './rest.ts';

/** Per-call options. */
export interface CallOptions {
  /** Bound on the call, body included (default: the client's). */
  timeoutMs?: number;
}

/** How a patch body is to be read by the API server. */
export type PatchType = 'merge' | 'json' | 'strategic';
export interface PatchOptions extends CallOptions {
  patch: PatchType;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** A JSON merge patch (RFC 7386): what our label and annotation edits are. */
export const mergePatch: PatchOptions = { patch: 'merge' };

export interface ListParams {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
}

interface Named {
  name: string;
}
interface InNamespace {
  namespace: string;
}

/** Paths of one resource: cluster-scoped when `namespace` is undefined. */
function resource(prefix: string, plural: string) {
  const collection = (namespace?: string) =>
    namespace === undefined ? `${prefix}/${plural}` : `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
  return {
    collection,
    item: (name: string, namespace?: string) => `${collection(namespace)}/${encodeURIComponent(name)}`,
  };
}

/** The five verbs, over one RestClient. */
function verbs(rest: RestClient) {
  const call = <T>(request: ApiRequest, options: CallOptions = {}) =>
    rest.json<T>(options.timeoutMs === undefined ? request : { ...request, timeoutMs: options.timeoutMs });
  return {
    get: <T>(path: string, query?: Query, o?: CallOptions) => call<T>({ path, ...(query ? { query } : {}) }, o),
    post: <T>(path: string, body: unknown, o?: CallOptions) => call<T>({ method: 'POST', path, body }, o),
    put: <T>(path: string, body: unknown, o?: CallOptions) => call<T>({ method: 'PUT', path, body }, o),
    patch: <T>(path: string, body: unknown, o: PatchOptions) =>
      call<T>({ method: 'PATCH', path, body, contentType: PATCH_CONTENT_TYPES[o.patch] }, o),
    delete: <T>(path: string, query?: Query, o?: CallOptions) =>
      call<T>({ method: 'DELETE', path, ...(query ? { query } : {}) }, o),
    /**
     * Lists a collection page by page (`limit`/`continue`), so a large one never arrives as one answer, and returns
     * every item. An explicit `limit` in `params` means one page, as the caller asked.
     */
    list: async <L extends { items: unknown[]; metadata?: { _continue?: string; resourceVersion?: string } }>(
      path: string,
      params: ListParams,
      o?: CallOptions,
    ): Promise<L> => {
      if (params.limit !== undefined) return call<L>({ path, query: list(params) }, o);
      let page = await call<L>({ path, query: { ...list(params), limit: LIST_PAGE_SIZE } }, o);
      const items = [...(page.items ?? [])];
      for (let next = continueToken(page); next; next = continueToken(page)) {
        page = await call<L>({ path, query: { ...list(params), limit: LIST_PAGE_SIZE, continue: next } }, o);
        items.push(...(page.items ?? []));
      }
      return { ...page, items };
    },
  };
}

/** Items per page when the server lists a collection. */
export const LIST_PAGE_SIZE = 500;

/** The API server's token for the next page (JSON `continue`; client-node's types call it `_continue`). */
function continueToken(page: { metadata?: object }): string | undefined {
  const meta = page.metadata as { continue?: string; _continue?: string } | undefined;
  return meta?.continue || meta?._continue || undefined;
}

const list = ({ labelSelector, fieldSelector, limit }: ListParams): Query => ({ labelSelector, fieldSelector, limit });

/** core/v1. */
export function coreV1(rest: RestClient) {
  const v = verbs(rest);
  const namespaces = resource('/api/v1', 'namespaces');
  const pods = resource('/api/v1', 'pods');
  const serviceAccounts = resource('/api/v1', 'serviceaccounts');
  const configMaps = resource('/api/v1', 'configmaps');
  return {
    readNamespace: ({ name }: Named, o?: CallOptions) => v.get<V1Namespace>(namespaces.item(name), undefined, o),
    listNamespace: (p: ListParams = {}, o?: CallOptions) => v.list<V1NamespaceList>(namespaces.collection(), p, o),
    createNamespace: ({ body }: { body: V1Namespace }, o?: CallOptions) =>
      v.post<V1Namespace>(namespaces.collection(), body, o),
    patchNamespace: ({ name, body }: Named & { body: object }, o: PatchOptions) =>
      v.patch<V1Namespace>(namespaces.item(name), body, o),
    deleteNamespace: (
      { name, propagationPolicy }: Named & { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' },
      o?: CallOptions,
    ) => v.delete<V1Status | V1Namespace>(namespaces.item(name), { propagationPolicy }, o),
    createNamespacedResourceQuota: ({ namespace, body }: InNamespace & { body: V1ResourceQuota }, o?: CallOptions) =>
      v.post<V1ResourceQuota>(resource('/api/v1', 'resourcequotas').collection(namespace), body, o),
    createNamespacedLimitRange: ({ namespace, body }: InNamespace & { body: V1LimitRange }, o?: CallOptions) =>
      v.post<V1LimitRange>(resource('/api/v1', 'limitranges').collection(namespace), body, o),
    createNamespacedServiceAccount: ({ namespace, body }: InNamespace & { body: V1ServiceAccount }, o?: CallOptions) =>
      v.post<V1ServiceAccount>(serviceAccounts.collection(namespace), body, o),
    readNamespacedServiceAccount: ({ namespace, name }: InNamespace & Named, o?: CallOptions) =>
      v.get<V1ServiceAccount>(serviceAccounts.item(name, namespace), undefined, o),
    patchNamespacedServiceAccount: (
      { namespace, name, body }: InNamespace & Named & { body: object },
      o: PatchOptions,
    ) => v.patch<V1ServiceAccount>(serviceAccounts.item(name, namespace), body, o),
    createNamespacedPod: ({ namespace, body }: InNamespace & { body: V1Pod }, o?: CallOptions) =>
      v.post<V1Pod>(pods.collection(namespace), body, o),
    readNamespacedResourceQuota: ({ namespace, name }: InNamespace & Named, o?: CallOptions) =>
      v.get<V1ResourceQuota>(resource('/api/v1', 'resourcequotas').item(name, namespace), undefined, o),
    readNamespacedPod: ({ namespace, name }: InNamespace & Named, o?: CallOptions) =>
      v.get<V1Pod>(pods.item(name, namespace), undefined, o),
    deleteNamespacedPod: (
      { namespace, name, gracePeriodSeconds }: InNamespace & Named & { gracePeriodSeconds?: number },
      o?: CallOptions,
    ) => v.delete<V1Pod>(pods.item(name, namespace), { gracePeriodSeconds }, o),
    listNamespacedPod: ({ namespace, ...p }: InNamespace & ListParams, o?: CallOptions) =>
      v.list<V1PodList>(pods.collection(namespace), p, o),
    listPodForAllNamespaces: (p: ListParams = {}, o?: CallOptions) => v.list<V1PodList>(pods.collection(), p, o),
    /** A container's log as text; bounded by `limitBytes`/`tailLines`. */
    readNamespacedPodLog: (
      p: InNamespace &
        Named & {
          container?: string;
          tailLines?: number;
          limitBytes?: number;
          previous?: boolean;
          timestamps?: boolean;
        },
      o?: CallOptions,
    ) => {
      const { namespace, name, ...query } = p;
      const path = `${pods.item(name, namespace)}/log`;
      return rest.text({ path, query, ...(o?.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }) });
    },
    readNamespacedConfigMap: ({ namespace, name }: InNamespace & Named, o?: CallOptions) =>
      v.get<V1ConfigMap>(configMaps.item(name, namespace), undefined, o),
    patchNamespacedConfigMap: ({ namespace, name, body }: InNamespace & Named & { body: object }, o: PatchOptions) =>
      v.patch<V1ConfigMap>(configMaps.item(name, namespace), body, o),
    listNode: (p: ListParams = {}, o?: CallOptions) => v.list<V1NodeList>('/api/v1/nodes', p, o),
    listNamespacedEvent: ({ namespace, ...p }: InNamespace & ListParams, o?: CallOptions) =>
      v.list<CoreV1EventList>(resource('/api/v1', 'events').collection(namespace), p, o),
  };
}

/** rbac.authorization.k8s.io/v1. */
export function rbacV1(rest: RestClient) {
  const v = verbs(rest);
  const prefix = '/apis/rbac.authorization.k8s.io/v1';
  const clusterRoles = resource(prefix, 'clusterroles');
  return {
    readClusterRole: ({ name }: Named, o?: CallOptions) => v.get<V1ClusterRole>(clusterRoles.item(name), undefined, o),
    createClusterRole: ({ body }: { body: V1ClusterRole }, o?: CallOptions) =>
      v.post<V1ClusterRole>(clusterRoles.collection(), body, o),
    replaceClusterRole: ({ name, body }: Named & { body: V1ClusterRole }, o?: CallOptions) =>
      v.put<V1ClusterRole>(clusterRoles.item(name), body, o),
    createNamespacedRole: ({ namespace, body }: InNamespace & { body: V1Role }, o?: CallOptions) =>
      v.post<V1Role>(resource(prefix, 'roles').collection(namespace), body, o),
    createNamespacedRoleBinding: ({ namespace, body }: InNamespace & { body: V1RoleBinding }, o?: CallOptions) =>
      v.post<V1RoleBinding>(resource(prefix, 'rolebindings').collection(namespace), body, o),
  };
}

/** networking.k8s.io/v1. */
export function networkingV1(rest: RestClient) {
  const v = verbs(rest);
  const policies = resource('/apis/networking.k8s.io/v1', 'networkpolicies');
  return {
    createNamespacedNetworkPolicy: ({ namespace, body }: InNamespace & { body: V1NetworkPolicy }, o?: CallOptions) =>
      v.post<V1NetworkPolicy>(policies.collection(namespace), body, o),
  };
}

/** admissionregistration.k8s.io/v1. */
export function admissionV1(rest: RestClient) {
  const v = verbs(rest);
  const prefix = '/apis/admissionregistration.k8s.io/v1';
  const policies = resource(prefix, 'validatingadmissionpolicies');
  const bindings = resource(prefix, 'validatingadmissionpolicybindings');
  type Policy = V1ValidatingAdmissionPolicy;
  return {
    readValidatingAdmissionPolicy: ({ name }: Named, o?: CallOptions) =>
      v.get<Policy>(policies.item(name), undefined, o),
    createValidatingAdmissionPolicy: ({ body }: { body: Policy }, o?: CallOptions) =>
      v.post<Policy>(policies.collection(), body, o),
    replaceValidatingAdmissionPolicy: ({ name, body }: Named & { body: Policy }, o?: CallOptions) =>
      v.put<Policy>(policies.item(name), body, o),
    createValidatingAdmissionPolicyBinding: ({ body }: { body: V1ValidatingAdmissionPolicyBinding }, o?: CallOptions) =>
      v.post<V1ValidatingAdmissionPolicyBinding>(bindings.collection(), body, o),
  };
}

/** discovery.k8s.io/v1. */
export function discoveryV1(rest: RestClient) {
  const v = verbs(rest);
  const slices = resource('/apis/discovery.k8s.io/v1', 'endpointslices');
  return {
    listNamespacedEndpointSlice: ({ namespace, ...p }: InNamespace & ListParams, o?: CallOptions) =>
      v.list<V1EndpointSliceList>(slices.collection(namespace), p, o),
  };
}

/** batch/v1. */
export function batchV1(rest: RestClient) {
  const v = verbs(rest);
  const jobs = resource('/apis/batch/v1', 'jobs');
  return {
    readNamespacedJob: ({ namespace, name }: InNamespace & Named, o?: CallOptions) =>
      v.get<V1Job>(jobs.item(name, namespace), undefined, o),
    listNamespacedJob: ({ namespace, ...p }: InNamespace & ListParams, o?: CallOptions) =>
      v.list<V1JobList>(jobs.collection(namespace), p, o),
  };
}

/** apps/v1, as far as the grader reads it: ReplicaSets short of their Pods (a controller the quota held back). */
export function appsV1(rest: RestClient) {
  const v = verbs(rest);
  const replicaSets = resource('/apis/apps/v1', 'replicasets');
  return {
    listNamespacedReplicaSet: ({ namespace, ...p }: InNamespace & ListParams, o?: CallOptions) =>
      v.list<V1ReplicaSetList>(replicaSets.collection(namespace), p, o),
  };
}

/** coordination.k8s.io/v1: the Lease that elects which server replica runs the warm pool and the reaper. */
export function coordinationV1(rest: RestClient) {
  const v = verbs(rest);
  const leases = resource('/apis/coordination.k8s.io/v1', 'leases');
  return {
    readNamespacedLease: ({ namespace, name }: InNamespace & Named, o?: CallOptions) =>
      v.get<V1Lease>(leases.item(name, namespace), undefined, o),
    createNamespacedLease: ({ namespace, body }: InNamespace & { body: V1Lease }, o?: CallOptions) =>
      v.post<V1Lease>(leases.collection(namespace), body, o),
    /** A PUT carrying the read's resourceVersion: it fails with 409 when another replica wrote in between. */
    replaceNamespacedLease: ({ namespace, name, body }: InNamespace & Named & { body: V1Lease }, o?: CallOptions) =>
      v.put<V1Lease>(leases.item(name, namespace), body, o),
  };
}

export type CoreV1 = ReturnType<typeof coreV1>;
export type RbacV1 = ReturnType<typeof rbacV1>;
export type NetworkingV1 = ReturnType<typeof networkingV1>;
export type AdmissionV1 = ReturnType<typeof admissionV1>;
export type DiscoveryV1 = ReturnType<typeof discoveryV1>;
export type AppsV1 = ReturnType<typeof appsV1>;
export type BatchV1 = ReturnType<typeof batchV1>;
export type CoordinationV1 = ReturnType<typeof coordinationV1>;
