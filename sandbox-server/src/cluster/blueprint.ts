// The sandbox blueprint as plain Kubernetes objects: one namespace per learner, locked down (pure, no I/O).
import { createHash } from 'node:crypto';
import type {
  V1ClusterRole,
  V1LimitRange,
  V1LimitRangeItem,
  V1Namespace,
  V1NetworkPolicy,
  V1NetworkPolicyPeer,
  V1NetworkPolicySpec,
  V1Pod,
  V1PolicyRule,
  V1ResourceQuota,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
  V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import {
  ANNOTATIONS,
  CHECKER_SA,
  LABELS,
  LEARNER_SA,
  SYSTEM_NAMESPACE,
  TOOLBOX_CONTAINER,
  TOOLBOX_POD,
} from './labels.ts';

/** Budgets of one sandbox, as plain data. */
export interface SandboxBudget {
  pods: number;
  cpu: string;
  memory: string;
}

export interface BlueprintInput {
  id: string;
  namespace: string;
  /** Empty while the sandbox waits in the warm pool. */
  owner: string;
  expiresAt: Date;
  toolboxImage: string;
  budget: SandboxBudget;
  /** Addresses (IP/32) and ports learners' Pods may reach outside their namespace: DNS and the API server. */
  egress: { dns: string[]; apiServer: Array<{ ip: string; port: number }> };
  workshop?: string;
  /** The server instance that built it (see LABELS.instance). */
  instance?: string;
  /** blueprintDigest() of the settings it was built with. */
  blueprint?: string;
}

export const PSA_VERSION = 'v1.35';

function meta(input: BlueprintInput, name: string) {
  return {
    name,
    namespace: input.namespace,
    labels: { [LABELS.managed]: 'true', [LABELS.sandbox]: input.id },
  };
}

export function namespaceObject(input: BlueprintInput): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: input.namespace,
      labels: {
        [LABELS.managed]: 'true',
        [LABELS.sandbox]: input.id,
        [LABELS.owner]: input.owner,
        // A pool sandbox becomes "warm" only once its shell answers, so a claim never gets a half-built one.
        [LABELS.pool]: input.owner ? 'claimed' : 'provisioning',
        ...(input.instance ? { [LABELS.instance]: input.instance } : {}),
        ...(input.blueprint ? { [LABELS.blueprint]: input.blueprint } : {}),
        ...(input.workshop ? { [LABELS.workshop]: input.workshop } : {}),
        // Learners cannot run privileged or host-level Pods. No `warn: restricted`: it printed a seven-line warning on
        // every apply of the seed document's own Pods, which teach sidecars, not hardening; audit still records it.
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': PSA_VERSION,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': PSA_VERSION,
      },
      annotations: { [ANNOTATIONS.expiresAt]: input.expiresAt.toISOString() },
    },
  };
}

/** Disk all of a sandbox's Pods may use together (their containers' ephemeral-storage limits). */
export const EPHEMERAL_STORAGE_QUOTA = '8Gi';

export function resourceQuota(input: BlueprintInput): V1ResourceQuota {
  const { pods, cpu, memory } = input.budget;
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta(input, 'sandbox-budget'),
    spec: {
      hard: {
        pods: String(pods),
        'requests.cpu': cpu,
        'requests.memory': memory,
        'limits.cpu': cpu,
        'limits.memory': memory,
        // Disk: container logs, writable layers and emptyDirs; a Pod over its limit is evicted and its logs removed.
        'limits.ephemeral-storage': EPHEMERAL_STORAGE_QUOTA,
        // A count for every kind a learner can create (directly or through a controller), so that no flood of objects
        // of up to 1.5 MiB each can fill etcd: this namespace holds a few hundred objects at most.
        services: '10',
        'services.nodeports': '0',
        'services.loadbalancers': '0',
        configmaps: '20',
        secrets: '20',
        persistentvolumeclaims: '0',
        'count/jobs.batch': '10',
        'count/cronjobs.batch': '5',
        'count/deployments.apps': '10',
        'count/replicasets.apps': '50',
        'count/statefulsets.apps': '5',
        'count/daemonsets.apps': '5',
        'count/controllerrevisions.apps': '50',
      },
    },
  };
}

/**
 * A LimitRange as the API server reads it. client-node's model calls the `default` field `_default` and renamed it
 * when it serialized; our client sends objects as they are, and an unknown `_default` would be dropped silently —
 * the API server would then default every container's limits to `max`.
 */
export type LimitRangeManifest = Omit<V1LimitRange, 'spec'> & {
  spec: { limits: Array<Omit<V1LimitRangeItem, '_default'> & { default?: Record<string, string> }> };
};

export function limitRange(input: BlueprintInput): LimitRangeManifest {
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta(input, 'sandbox-defaults'),
    spec: {
      limits: [
        {
          type: 'Container',
          // Containers without resources still fit the quota: these defaults apply.
          default: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '256Mi' },
          defaultRequest: { cpu: '20m', memory: '32Mi', 'ephemeral-storage': '32Mi' },
          max: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '1Gi' },
        },
      ],
    },
  };
}

/**
 * A NetworkPolicy as the API server reads it. client-node's model calls an ingress rule's `from` `_from`; our client
 * sends objects as they are, and the API server dropped the unknown `_from`, leaving `ingress: [{}]` — traffic in from
 * anywhere.
 */
export type NetworkPolicyManifest = Omit<V1NetworkPolicy, 'spec'> & {
  spec: Omit<V1NetworkPolicySpec, 'ingress'> & { ingress: Array<{ from: V1NetworkPolicyPeer[] }> };
};

export function networkPolicy(input: BlueprintInput): NetworkPolicyManifest {
  const sameNamespace: V1NetworkPolicyPeer = { podSelector: {} };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(input, 'sandbox-isolation'),
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [sameNamespace] }],
      egress: [
        { to: [sameNamespace] },
        {
          to: [
            ...input.egress.dns.map((ip) => ({ ipBlock: { cidr: `${ip}/32` } })),
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        ...input.egress.apiServer.map(({ ip, port }) => ({
          to: [{ ipBlock: { cidr: `${ip}/32` } }],
          ports: [{ protocol: 'TCP', port }],
        })),
      ],
    },
  };
}

export function learnerServiceAccount(input: BlueprintInput): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(input, LEARNER_SA),
    automountServiceAccountToken: false,
  };
}

/** The `default` ServiceAccount keeps no rights and mounts no token. */
export function defaultServiceAccount(input: BlueprintInput): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(input, 'default'),
    automountServiceAccountToken: false,
  };
}

const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const READ = ['get', 'list', 'watch'];

/** What a learner may do in their own namespace, and nothing outside it (bound per namespace). */
export const LEARNER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'secrets'], verbs: WRITE },
  // A WebSocket exec or attach is authorised as `get` before 1.35 and as `create` too from 1.35.
  {
    apiGroups: [''],
    resources: ['pods/log', 'pods/exec', 'pods/attach', 'pods/portforward'],
    verbs: ['get', 'create'],
  },
  {
    apiGroups: [''],
    resources: ['events', 'endpoints', 'resourcequotas', 'limitranges', 'serviceaccounts'],
    verbs: READ,
  },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: WRITE },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: WRITE },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  // The page's preview of a Pod's port goes through `pods/proxy`, as the learner (kubectl proxy does the same).
  { apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
];

export const LEARNER_CLUSTER_ROLE = 'sidecar-lab:learner';

/**
 * The revision of the rules in `checkerClusterRole` and `learnerClusterRole`, written on both as an annotation. Bump
 * it with every change of their rules (cluster-setup.test.ts pins the rules to it): servers of two versions sharing a
 * cluster (a rolling update, two branches on one developer's cluster) then agree on whose rules win — the newer —
 * instead of each rewriting the roles at start-up.
 */
export const ROLE_REVISION = 2;

export const roleRevisionAnnotation = { [ANNOTATIONS.rulesRevision]: String(ROLE_REVISION) };

/**
 * The learner's rights as one ClusterRole that each sandbox binds in its own namespace: the server then needs only
 * `bind` on it, instead of holding every right it grants (secrets, Deployments, …) in every namespace itself.
 */
export const learnerClusterRole: V1ClusterRole = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: LEARNER_CLUSTER_ROLE, labels: { [LABELS.managed]: 'true' }, annotations: roleRevisionAnnotation },
  rules: LEARNER_RULES,
};

/** The same rights as a Role of the namespace, for grading namespaces (made by an administrator's CLI). */
export function learnerRole(input: BlueprintInput): V1Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(input, 'learner'),
    rules: LEARNER_RULES,
  };
}

export function learnerRoleBinding(input: BlueprintInput, to: 'Role' | 'ClusterRole' = 'ClusterRole'): V1RoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(input, 'learner'),
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: to,
      name: to === 'Role' ? 'learner' : LEARNER_CLUSTER_ROLE,
    },
    subjects: [{ kind: 'ServiceAccount', name: LEARNER_SA, namespace: input.namespace }],
  };
}

/** Lets the server's checker identity read this namespace and exec behaviour probes, nothing more. */
export function checkerRoleBinding(input: BlueprintInput): V1RoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(input, 'sidecar-lab-checker'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CHECKER_CLUSTER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: CHECKER_SA, namespace: SYSTEM_NAMESPACE }],
  };
}

export const CHECKER_CLUSTER_ROLE = 'sidecar-lab:checker';

/**
 * The checker's one write: the ConfigMaps that exercises proving a reaction to a change (config-reload) change at
 * check time, by name, and nothing else.
 */
export const checkerConfigMapWrite = {
  apiGroups: [''],
  resources: ['configmaps'],
  resourceNames: ['web-config'],
  verbs: ['patch'],
};

export function toolboxPod(input: BlueprintInput): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta(input, TOOLBOX_POD),
      labels: { [LABELS.managed]: 'true', [LABELS.sandbox]: input.id, [LABELS.component]: 'toolbox' },
    },
    spec: {
      serviceAccountName: LEARNER_SA,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: TOOLBOX_CONTAINER,
          image: input.toolboxImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', 'infinity'],
          env: [
            { name: 'HOME', value: '/home/learner' },
            { name: 'TERM', value: 'xterm-256color' },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          ],
          workingDir: '/home/learner',
          resources: { requests: { cpu: '20m', memory: '48Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            readOnlyRootFilesystem: false,
          },
          // No probes: the server's first exec (starting tmux) is the readiness check, as soon as the container runs.
          // A readiness probe would fork a shell in every toolbox every second for the sandbox's whole life, and a
          // startup probe makes the kubelet report the container ready up to a second after it passed.
          volumeMounts: [
            { name: 'home', mountPath: '/home/learner' },
            { name: 'learner-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'home', emptyDir: { sizeLimit: '100Mi' } },
        {
          name: 'learner-token',
          projected: {
            sources: [
              // Short-lived: the kubelet refreshes it, and the API server does not extend it.
              { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
    },
  };
}

/** Everything namespaced, in the order it is created (the toolbox last, once its ServiceAccount exists). */
export function sandboxObjects(input: BlueprintInput) {
  return [
    resourceQuota(input),
    limitRange(input),
    networkPolicy(input),
    defaultServiceAccount(input),
    learnerServiceAccount(input),
    learnerRoleBinding(input),
    checkerRoleBinding(input),
    toolboxPod(input),
  ];
}

/**
 * A short digest of everything a sandbox is made of with these settings (namespace labels and every object), so a
 * warm sandbox built by another blueprint — an older server, other quotas, another toolbox image — is not handed out.
 * The cluster-specific egress addresses are left out: they are not a choice of the blueprint.
 */
export function blueprintDigest(settings: Pick<BlueprintInput, 'toolboxImage' | 'budget'>): string {
  const sample: BlueprintInput = {
    id: 'digest',
    namespace: 'sbx-digest',
    owner: '',
    expiresAt: new Date(0),
    toolboxImage: settings.toolboxImage,
    budget: settings.budget,
    egress: { dns: [], apiServer: [] },
  };
  const content = JSON.stringify([namespaceObject(sample).metadata?.labels, sandboxObjects(sample)]);
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

/** Docker Hub short names as the kubelet expands them: busybox → docker.io/library/busybox. */
export function imageRepositoryForms(repo: string): string[] {
  if (repo.includes('/') && repo.split('/')[0]!.includes('.')) return [repo];
  const full = repo.includes('/') ? `docker.io/${repo}` : `docker.io/library/${repo}`;
  return repo.includes('/') ? [repo, full] : [repo, `library/${repo}`, full];
}

const cel = (s: string) => JSON.stringify(s);

/**
 * One cluster-wide policy for all sandboxes: learners may not touch their toolbox, and Pods may only use images
 * from the allow-list. It applies to namespaces carrying our managed label.
 */
export function admissionPolicy(allowedImages: string[], toolboxImage: string): V1ValidatingAdmissionPolicy {
  const toolboxRepo = toolboxImage.replace(/[:@][^/]*$/, '');
  const repos = [...new Set([...allowedImages.flatMap(imageRepositoryForms), ...imageRepositoryForms(toolboxRepo)])];
  const allowed = `[${repos.map(cel).join(', ')}]`;
  const imageOk = (c: string) =>
    `${allowed}.exists(r, ${c}.image == r || ${c}.image.startsWith(r + ':') || ${c}.image.startsWith(r + '@'))`;
  const isLearner = `request.userInfo.username == 'system:serviceaccount:' + request.namespace + ':${LEARNER_SA}'`;
  const touchesToolbox = `request.resource.resource == 'pods' && request.name == '${TOOLBOX_POD}'`;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'sidecar-lab-sandbox', labels: { [LABELS.managed]: 'true' } },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        namespaceSelector: { matchLabels: { [LABELS.managed]: 'true' } },
        resourceRules: [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            resources: ['pods', 'pods/ephemeralcontainers'],
          },
        ],
      },
      validations: [
        {
          expression: `!(${isLearner} && ${touchesToolbox} && request.operation != 'CREATE')`,
          message: 'the toolbox Pod runs your terminal; it cannot be changed or deleted',
          reason: 'Forbidden',
        },
        {
          expression: `!(${isLearner} && ${touchesToolbox} && request.operation == 'CREATE')`,
          message: 'the name "toolbox" is reserved for your terminal Pod',
          reason: 'Forbidden',
        },
        {
          expression:
            `request.operation == 'DELETE' || (` +
            `object.spec.containers.all(c, ${imageOk('c')}) && ` +
            `(!has(object.spec.initContainers) || object.spec.initContainers.all(c, ${imageOk('c')})) && ` +
            `(!has(object.spec.ephemeralContainers) || object.spec.ephemeralContainers.all(c, ${imageOk('c')})))`,
          messageExpression: `'this course allows only these images: ' + ${cel(allowedImages.join(', '))}`,
          reason: 'Forbidden',
        },
      ],
    },
  };
}

export function admissionPolicyBinding(): V1ValidatingAdmissionPolicyBinding {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'sidecar-lab-sandbox', labels: { [LABELS.managed]: 'true' } },
    spec: {
      policyName: 'sidecar-lab-sandbox',
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { [LABELS.managed]: 'true' } } },
    },
  };
}
