import { describe, expect, it } from 'vitest';
import {
  admissionPolicy,
  blueprintDigest,
  imageRepositoryForms,
  learnerRole,
  limitRange,
  namespaceObject,
  networkPolicy,
  resourceQuota,
  sandboxObjects,
  toolboxPod,
} from './blueprint.ts';
import { LABELS } from './labels.ts';

const input = {
  id: '0123456789abcdef',
  namespace: 'sbx-0123456789abcdef',
  owner: '',
  expiresAt: new Date('2030-01-01T00:00:00Z'),
  toolboxImage: 'docker.io/sidecar-lab/toolbox:v1.35.4',
  budget: { pods: 10, cpu: '2', memory: '2Gi' },
  egress: { dns: ['10.240.0.1'], apiServer: [{ ip: '10.240.0.1', port: 6443 }] },
};

describe('the sandbox blueprint', () => {
  it('labels a pool namespace as provisioning (not claimable until its shell answers), with Pod Security pinned', () => {
    const labels = namespaceObject(input).metadata!.labels!;
    expect(labels[LABELS.pool]).toBe('provisioning');
    expect(labels['pod-security.kubernetes.io/enforce']).toBe('baseline');
    expect(labels['pod-security.kubernetes.io/enforce-version']).toBe('v1.35');
  });

  it('lets traffic in only from the namespace, and out only to it, DNS and the API server', () => {
    const spec = networkPolicy(input).spec;
    expect(spec.ingress).toEqual([{ from: [{ podSelector: {} }] }]);
    const cidrs = spec.egress!.flatMap((r) => r.to ?? []).flatMap((p) => (p.ipBlock ? [p.ipBlock.cidr] : []));
    expect(cidrs).toEqual(['10.240.0.1/32', '10.240.0.1/32']);
  });

  it('runs the toolbox as non-root with no token but its own short-lived one', () => {
    const pod = toolboxPod(input);
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.securityContext!.runAsNonRoot).toBe(true);
    const token = pod.spec!.volumes!.find((v) => v.name === 'learner-token')!.projected!.sources![0]!;
    expect(token.serviceAccountToken!.expirationSeconds).toBe(3600);
    expect(sandboxObjects(input).at(-1)).toEqual(pod);
  });

  it('expands Docker Hub short names the way the kubelet does', () => {
    expect(imageRepositoryForms('busybox')).toEqual(['busybox', 'library/busybox', 'docker.io/library/busybox']);
    expect(imageRepositoryForms('bitnami/nginx')).toEqual(['bitnami/nginx', 'docker.io/bitnami/nginx']);
    expect(imageRepositoryForms('registry.k8s.io/pause')).toEqual(['registry.k8s.io/pause']);
    const rule = admissionPolicy(['busybox'], input.toolboxImage).spec!.validations![2]!.expression;
    expect(rule).toContain('"docker.io/library/busybox"');
    expect(rule).toContain('"docker.io/sidecar-lab/toolbox"');
  });

  it('caps the count of every kind the learner may create, and the disk every Pod may use', () => {
    const hard = resourceQuota(input).spec!.hard!;
    const creatable = learnerRole(input)
      .rules!.filter((r) => r.verbs.includes('create'))
      .flatMap((r) =>
        r.resources!.filter((x) => !x.includes('/')).map((x) => (r.apiGroups![0] ? `${x}.${r.apiGroups![0]}` : x)),
      );
    expect(creatable.length).toBeGreaterThan(5);
    for (const kind of creatable) expect(hard[kind] ?? hard[`count/${kind}`], kind).toMatch(/^\d+$/);
    // Objects the controllers create for the learner's: ReplicaSets of Deployments, revisions of StatefulSets.
    expect(hard['count/controllerrevisions.apps']).toMatch(/^\d+$/);
    expect(hard['limits.ephemeral-storage']).toBeDefined();
    const limits = limitRange(input).spec.limits[0]!;
    // The field the API server reads is `default` (client-node's model calls it `_default`; the server would drop it).
    expect(JSON.parse(JSON.stringify(limits)).default).toEqual({
      cpu: '200m',
      memory: '128Mi',
      'ephemeral-storage': '256Mi',
    });
    expect(limits.max!['ephemeral-storage']).toBeDefined();
  });

  it('digests the blueprint: the same settings give the same digest, other quotas or toolbox image another', () => {
    const digest = blueprintDigest(input);
    expect(digest).toMatch(/^[0-9a-f]{12}$/);
    expect(blueprintDigest({ ...input })).toBe(digest);
    expect(blueprintDigest({ ...input, budget: { ...input.budget, pods: 11 } })).not.toBe(digest);
    expect(blueprintDigest({ ...input, toolboxImage: 'docker.io/sidecar-lab/toolbox:v2' })).not.toBe(digest);
  });
});
