// What of a sandbox's objects is the learner's work, as clean manifests: what they wrote, not what the cluster added.
import { z } from 'zod';
import { LABELS } from '../cluster/labels.ts';

/** The kinds a learner can create (their Role), in the order a restore applies them: what others mount or select first. */
export const SAVED_KINDS = [
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs' },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
] as const;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Objects the cluster makes in every namespace by itself. */
const CLUSTER_MADE = new Set(['ConfigMap/kube-root-ca.crt']);

/** A saved manifest: one of the saved kinds, a name, no namespace (it is restored into another). */
export const savedManifest = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z
      .object({
        name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/),
        namespace: z.undefined().optional(),
      })
      .passthrough(),
  })
  .passthrough()
  .refine((m) => SAVED_KINDS.some((k) => k.apiVersion === m.apiVersion && k.kind === m.kind), {
    message: `only ${SAVED_KINDS.map((k) => k.kind).join(', ')} are saved`,
  });
export type SavedManifest = z.infer<typeof savedManifest>;

// biome-ignore lint/suspicious/noExplicitAny: objects read from the API server are walked field by field.
type Live = Record<string, any>;

/**
 * The learner's manifest for a live object, or undefined when it is not theirs to save: the blueprint's (our label),
 * one a controller made (an owner reference: a Job's Pods, a Deployment's ReplicaSets), or one the cluster makes.
 * What `kubectl apply` recorded is what the learner wrote; an object made otherwise (`kubectl create`, `run`) keeps
 * its spec, without status, server metadata and the fields the API server fills in that would clash on re-apply.
 */
export function cleanManifest(kind: (typeof SAVED_KINDS)[number], live: Live): SavedManifest | undefined {
  const meta = live.metadata ?? {};
  if (meta.labels?.[LABELS.managed] === 'true') return undefined;
  if (meta.ownerReferences?.length) return undefined;
  if (CLUSTER_MADE.has(`${kind.kind}/${meta.name}`)) return undefined;
  if (kind.kind === 'Secret' && live.type === 'kubernetes.io/service-account-token') return undefined;
  const recorded = meta.annotations?.[LAST_APPLIED];
  if (recorded) {
    try {
      const written = JSON.parse(recorded) as Live;
      const { namespace: _ns, ...metadata } = written.metadata ?? {};
      return savedManifest.parse({ ...written, metadata: { ...metadata, name: meta.name } });
    } catch {
      // A hand-edited annotation that is not JSON: fall through to the live object.
    }
  }
  const { status: _status, metadata: _metadata, ...rest } = live;
  const annotations = Object.fromEntries(
    Object.entries((meta.annotations ?? {}) as Record<string, string>).filter(
      ([k]) => !k.startsWith('kubectl.kubernetes.io/'),
    ),
  );
  const spec = rest.spec ? withoutServerFields(kind.kind, rest.spec) : undefined;
  return savedManifest.parse({
    ...rest,
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    metadata: {
      name: meta.name,
      ...(meta.labels && Object.keys(meta.labels).length ? { labels: meta.labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    ...(spec ? { spec } : {}),
  });
}

/** Fields the API server fills in (a node, a cluster IP, the token volume) that would clash or be wrong elsewhere. */
function withoutServerFields(kind: string, spec: Live): Live {
  if (kind === 'Service') {
    const { clusterIP: _ip, clusterIPs: _ips, ...rest } = spec;
    return rest;
  }
  if (kind === 'Pod') return podSpecWithoutServerFields(spec);
  if ((kind === 'Deployment' || kind === 'Job') && spec.template?.spec) {
    const { selector, ...rest } = spec;
    const labels = selector?.matchLabels?.['batch.kubernetes.io/controller-uid'] ? undefined : selector;
    const template = { ...spec.template, spec: podSpecWithoutServerFields(spec.template.spec) };
    if (kind === 'Job') template.metadata = withoutJobLabels(template.metadata);
    return { ...rest, ...(labels ? { selector: labels } : {}), template };
  }
  return spec;
}

function podSpecWithoutServerFields(spec: Live): Live {
  const { nodeName: _node, ...rest } = spec;
  const injected = (name: string) => name.startsWith('kube-api-access-');
  const strip = (containers: Live[] | undefined) =>
    containers?.map((c) => ({ ...c, volumeMounts: c.volumeMounts?.filter((m: Live) => !injected(m.name)) }));
  return {
    ...rest,
    ...(rest.volumes ? { volumes: rest.volumes.filter((v: Live) => !injected(v.name)) } : {}),
    ...(rest.containers ? { containers: strip(rest.containers) } : {}),
    ...(rest.initContainers ? { initContainers: strip(rest.initContainers) } : {}),
  };
}

/** A Job's template carries the labels its controller added (controller-uid, job-name); a new Job adds its own. */
function withoutJobLabels(metadata: Live | undefined): Live | undefined {
  if (!metadata?.labels) return metadata;
  const labels = Object.fromEntries(
    Object.entries(metadata.labels as Record<string, string>).filter(
      ([k]) => !['controller-uid', 'job-name'].includes(k) && !k.startsWith('batch.kubernetes.io/'),
    ),
  );
  return { ...metadata, labels };
}

/** The saved manifests in the order a restore applies them (the order of SAVED_KINDS, then by name). */
export function inApplyOrder(manifests: readonly SavedManifest[]): SavedManifest[] {
  const rank = (m: SavedManifest) => SAVED_KINDS.findIndex((k) => k.kind === m.kind);
  return [...manifests].sort((a, b) => rank(a) - rank(b) || a.metadata.name.localeCompare(b.metadata.name));
}
