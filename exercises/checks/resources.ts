// Which resource amounts the learner wrote for a container, as opposed to what the API server filled in (requests
// copied from limits) or a namespace's LimitRange defaulted.
import { z } from 'zod';
import type { Pod } from '../model.ts';

export const RESOURCES = ['cpu', 'memory'] as const;
export type Resource = (typeof RESOURCES)[number];
export type Kind = 'requests' | 'limits';

/** How we know what was written: the object kubectl applied, server-side apply's field ownership, or the spec. */
export type Source = 'last-applied' | 'server-side-apply' | 'spec';

/** The amounts a learner wrote for one container. */
export interface Written {
  requests: Partial<Record<Resource, string>>;
  limits: Partial<Record<Resource, string>>;
  source: Source;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

// Only what we read of the object `kubectl apply` records; amounts may be numbers in JSON (cpu: 1).
const amounts = z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional();
const AppliedPodSchema = z.object({
  spec: z.object({
    containers: z
      .array(z.object({ name: z.string(), resources: z.object({ requests: amounts, limits: amounts }).optional() }))
      .default([]),
    initContainers: z
      .array(z.object({ name: z.string(), resources: z.object({ requests: amounts, limits: amounts }).optional() }))
      .default([]),
  }),
});

const pick = (values: Record<string, string> | undefined) => {
  const out: Partial<Record<Resource, string>> = {};
  for (const r of RESOURCES) if (values?.[r] !== undefined) out[r] = values[r];
  return out;
};

/** The container as `kubectl apply` recorded it, or undefined when the Pod was not made by client-side apply. */
function fromLastApplied(pod: Pod, name: string): Written | undefined {
  const text = pod.metadata.annotations[LAST_APPLIED];
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined; // not kubectl's; fall back to the other sources
  }
  const parsed = AppliedPodSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { containers, initContainers } = parsed.data.spec;
  const container = [...containers, ...initContainers].find((c) => c.name === name);
  if (!container) return undefined;
  return {
    requests: pick(container.resources?.requests),
    limits: pick(container.resources?.limits),
    source: 'last-applied',
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields of `name`'s resources that a server-side apply owns, or undefined when no Apply wrote the container. */
function fromServerSideApply(pod: Pod, name: string): Written | undefined {
  const key = `k:${JSON.stringify({ name })}`;
  for (const entry of pod.metadata.managedFields) {
    if (entry.operation !== 'Apply' || !isObject(entry.fieldsV1)) continue;
    const spec = entry.fieldsV1['f:spec'];
    if (!isObject(spec)) continue;
    const owned = [spec['f:containers'], spec['f:initContainers']]
      .map((list) => (isObject(list) ? list[key] : undefined))
      .find(isObject);
    if (!owned) continue;
    const resources = isObject(owned['f:resources']) ? owned['f:resources'] : {};
    const container = [...pod.spec.containers, ...pod.spec.initContainers].find((c) => c.name === name);
    const written = (kind: Kind) => {
      const fields = resources[`f:${kind}`];
      const values: Record<string, string> = {};
      for (const r of RESOURCES) {
        const value = container?.resources[kind][r];
        if (isObject(fields) && `f:${r}` in fields && value !== undefined) values[r] = value;
      }
      return values;
    };
    return { requests: written('requests'), limits: written('limits'), source: 'server-side-apply' };
  }
  return undefined;
}

/**
 * What the learner wrote for container `name`: from the applied object when kubectl apply recorded it, from server-side
 * apply's field ownership, else from the spec (where requests copied from limits cannot be told apart).
 */
export function writtenResources(pod: Pod, name: string): Written {
  const found = fromLastApplied(pod, name) ?? fromServerSideApply(pod, name);
  if (found) return found;
  const container = [...pod.spec.containers, ...pod.spec.initContainers].find((c) => c.name === name);
  return { requests: pick(container?.resources.requests), limits: pick(container?.resources.limits), source: 'spec' };
}
