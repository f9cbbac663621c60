// Which resource amounts a learner wrote: from kubectl's applied object, server-side apply ownership, or the spec.
import { describe, expect, it } from 'vitest';
import { PodSchema } from '../model.ts';
import { writtenResources } from './resources.ts';

/** A Pod as the API server returns it for a limits-only sidecar: requests were copied from the limits. */
const pod = (metadata: object) =>
  PodSchema.parse({
    metadata: { name: 'p', ...metadata },
    spec: {
      containers: [
        { name: 'main-app', image: 'nginx:1.26' },
        {
          name: 'agent',
          image: 'busybox',
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
        },
      ],
    },
  });

describe('writtenResources', () => {
  it('reads what kubectl apply recorded, numbers included', () => {
    const applied = {
      spec: { containers: [{ name: 'agent', resources: { limits: { cpu: 0.1, memory: '64Mi' } } }] },
    };
    const p = pod({ annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) } });
    expect(writtenResources(p, 'agent')).toEqual({
      requests: {},
      limits: { cpu: '0.1', memory: '64Mi' },
      source: 'last-applied',
    });
  });

  it('reads the fields a server-side apply owns', () => {
    const fieldsV1 = {
      'f:spec': {
        'f:containers': {
          'k:{"name":"agent"}': { '.': {}, 'f:resources': { 'f:limits': { 'f:cpu': {}, 'f:memory': {} } } },
        },
      },
    };
    const p = pod({
      managedFields: [
        { manager: 'kubelet', operation: 'Update', fieldsV1: { 'f:status': {} } },
        { manager: 'kubectl', operation: 'Apply', fieldsV1 },
      ],
    });
    expect(writtenResources(p, 'agent')).toEqual({
      requests: {},
      limits: { cpu: '100m', memory: '64Mi' },
      source: 'server-side-apply',
    });
  });

  it('falls back to the spec when neither says', () => {
    const p = pod({ annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'not json' } });
    expect(writtenResources(p, 'agent')).toMatchObject({ requests: { cpu: '100m' }, source: 'spec' });
  });
});
