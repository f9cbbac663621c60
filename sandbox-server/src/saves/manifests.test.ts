import { describe, expect, it } from 'vitest';
import { cleanManifest, inApplyOrder, SAVED_KINDS, savedManifest } from './manifests.ts';

const kind = (name: string) => SAVED_KINDS.find((k) => k.kind === name)!;
const LAST = 'kubectl.kubernetes.io/last-applied-configuration';

describe('cleanManifest', () => {
  it('takes what kubectl apply recorded: no status, uid, resourceVersion, managedFields or defaults', () => {
    const written = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'sbx-old' },
      data: { level: 'debug' },
    };
    const live = {
      ...written,
      metadata: {
        name: 'settings',
        namespace: 'sbx-old',
        uid: 'u-1',
        resourceVersion: '42',
        creationTimestamp: '2026-11-30T09:00:00Z',
        managedFields: [{ manager: 'kubectl-client-side-apply' }],
        annotations: { [LAST]: JSON.stringify(written) },
      },
    };
    expect(cleanManifest(kind('ConfigMap'), live)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { level: 'debug' },
    });
  });

  it('leaves out the blueprint, what controllers and the cluster made, and service-account tokens', () => {
    const ours = { metadata: { name: 'toolbox', labels: { 'sidecar-lab.dev/managed': 'true' } }, spec: {} };
    const owned = { metadata: { name: 'job-x-abcde', ownerReferences: [{ kind: 'Job', name: 'job-x' }] }, spec: {} };
    expect(cleanManifest(kind('Pod'), ours)).toBeUndefined();
    expect(cleanManifest(kind('Pod'), owned)).toBeUndefined();
    expect(cleanManifest(kind('ConfigMap'), { metadata: { name: 'kube-root-ca.crt' }, data: {} })).toBeUndefined();
    expect(
      cleanManifest(kind('Secret'), { metadata: { name: 't' }, type: 'kubernetes.io/service-account-token' }),
    ).toBeUndefined();
  });

  it('without a record of what was written, drops the fields the API server fills in', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', uid: 'u', labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/x': 'y' } },
      spec: {
        nodeName: 'node-1',
        containers: [
          {
            name: 'nginx',
            image: 'nginx:1.26',
            volumeMounts: [{ name: 'kube-api-access-abcde', mountPath: '/var/run/secrets' }],
          },
        ],
        volumes: [{ name: 'kube-api-access-abcde', projected: {} }],
      },
      status: { phase: 'Running' },
    };
    expect(cleanManifest(kind('Pod'), pod)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.26', volumeMounts: [] }], volumes: [] },
    });
    const service = {
      metadata: { name: 'web' },
      spec: { clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'], ports: [{ port: 80 }] },
    };
    expect(cleanManifest(kind('Service'), service)?.spec).toEqual({ ports: [{ port: 80 }] });
  });
});

describe('saved manifests', () => {
  it('are restored in dependency order: what is mounted or selected before what uses it', () => {
    const m = (kind: string, name: string) => ({ apiVersion: 'v1', kind, metadata: { name } });
    const order = inApplyOrder([m('Pod', 'a'), m('Service', 's'), m('ConfigMap', 'c'), m('Secret', 'x')]);
    expect(order.map((o) => o.kind)).toEqual(['ConfigMap', 'Secret', 'Service', 'Pod']);
  });

  it('refuse other kinds, another namespace and odd names', () => {
    const ok = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } };
    expect(savedManifest.safeParse(ok).success).toBe(true);
    expect(savedManifest.safeParse({ ...ok, kind: 'RoleBinding' }).success).toBe(false);
    expect(savedManifest.safeParse({ ...ok, metadata: { name: 'web', namespace: 'kube-system' } }).success).toBe(false);
    expect(savedManifest.safeParse({ ...ok, metadata: { name: '../x' } }).success).toBe(false);
  });
});
