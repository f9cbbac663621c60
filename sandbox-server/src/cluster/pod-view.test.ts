// The Pod picture's model from Pods as the API server sends them: kinds in start order, states, mounts and ports.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podView } from '../protocol/pod-view.ts';
import { LABELS } from './labels.ts';
import { podViewOf, podViewsOf } from './pod-view.ts';

const token = {
  name: 'kube-api-access-x1y2z',
  mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
  readOnly: true,
};

const pod: V1Pod = {
  metadata: { name: 'web', uid: 'u1' },
  spec: {
    initContainers: [
      { name: 'setup', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }, token] },
      {
        name: 'shipper',
        image: 'busybox',
        restartPolicy: 'Always',
        volumeMounts: [{ name: 'logs', mountPath: '/logs', readOnly: true }],
      },
    ],
    containers: [
      {
        name: 'app',
        image: 'nginx:1.26',
        ports: [
          { containerPort: 80, name: 'http' },
          { containerPort: 53, protocol: 'UDP' },
        ],
      },
    ],
    volumes: [
      { name: 'logs', emptyDir: {} },
      { name: 'data', configMap: { name: 'c' } },
      { name: token.name, projected: { sources: [] } },
    ],
  },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    initContainerStatuses: [
      {
        name: 'setup',
        image: 'busybox',
        imageID: '',
        ready: true,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      },
      {
        name: 'shipper',
        image: 'busybox',
        imageID: '',
        ready: false,
        restartCount: 2,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 3, reason: 'Error' } },
      },
    ],
    containerStatuses: [
      { name: 'app', image: 'nginx', imageID: '', ready: true, restartCount: 0, state: { running: {} } },
    ],
  },
};

describe('podViewOf', () => {
  it('lists init containers, native sidecars and app containers in start order, with what each is doing', () => {
    const view = podViewOf(pod);
    expect(podView.safeParse(view).success).toBe(true);
    expect(view).toMatchObject({ name: 'web', phase: 'Running', ready: true, deleting: false });
    expect(view.containers).toEqual([
      {
        name: 'setup',
        kind: 'init',
        image: 'busybox',
        state: 'terminated',
        reason: 'Completed',
        exitCode: 0,
        // Kubernetes says a completed init container is ready; the picture keeps "ready" for running ones.
        ready: false,
        restarts: 0,
        ports: [],
        mounts: [{ volume: 'data', path: '/data', readOnly: false }],
      },
      {
        name: 'shipper',
        kind: 'sidecar',
        image: 'busybox',
        state: 'waiting',
        reason: 'CrashLoopBackOff',
        ready: false,
        restarts: 2,
        lastTermination: 'Error (exit 3)',
        ports: [],
        mounts: [{ volume: 'logs', path: '/logs', readOnly: true }],
      },
      {
        name: 'app',
        kind: 'app',
        image: 'nginx:1.26',
        state: 'running',
        ready: true,
        restarts: 0,
        ports: [
          { port: 80, protocol: 'TCP', name: 'http' },
          { port: 53, protocol: 'UDP' },
        ],
        mounts: [],
      },
    ]);
    // The ServiceAccount token volume every Pod gets is left out; the others keep their source kind.
    expect(view.volumes).toEqual([
      { name: 'logs', kind: 'emptyDir' },
      { name: 'data', kind: 'configMap' },
    ]);
  });

  it('shows a Pod being deleted and containers without a status yet', () => {
    const fresh: V1Pod = {
      metadata: { name: 'new', deletionTimestamp: new Date() },
      spec: { containers: [{ name: 'c' }] },
    };
    expect(podViewOf(fresh)).toMatchObject({
      phase: 'Pending',
      ready: false,
      deleting: true,
      containers: [{ name: 'c', state: 'unknown', ready: false, restarts: 0 }],
    });
  });
});

describe('podViewsOf', () => {
  it('leaves the blueprint’s toolbox out and orders Pods by name', () => {
    const toolbox: V1Pod = {
      metadata: { name: 'toolbox', labels: { [LABELS.component]: 'toolbox' } },
      spec: { containers: [] },
    };
    const a: V1Pod = { metadata: { name: 'a' }, spec: { containers: [] } };
    expect(podViewsOf([pod, toolbox, a]).map((p) => p.name)).toEqual(['a', 'web']);
  });
});
