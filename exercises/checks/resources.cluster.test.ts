// What a learner wrote for a sidecar's resources, read back from Pods made the ways a learner makes them: kubectl apply
// (client-side: it records the applied object), kubectl apply --server-side (field ownership), and kubectl create
// (neither: the API server's copy of limits into requests cannot be told from written requests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckContext } from '../../sandbox-server/src/cluster/check-context.ts';
import { loadKubeConfig } from '../../sandbox-server/src/cluster/kubeconfig.ts';
import { createNamespace, deleteNamespace, kubectl } from '../../tests/support/kubectl.ts';
import { writtenResources } from './resources.ts';

let ns: string;

const pod = (name: string, resources: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: agent
    image: busybox
    command: ["sleep", "3600"]
    resources:
${resources}
`;
const LIMITS_ONLY = '      limits: {cpu: 100m, memory: 64Mi}';
const EQUAL = '      requests: {cpu: "0.1", memory: 64Mi}\n      limits: {cpu: 100m, memory: 64Mi}';

beforeAll(async () => {
  ns = await createNamespace('test-written-resources');
  await kubectl(['-n', ns, 'apply', '-f', '-'], pod('csa-limits', LIMITS_ONLY));
  await kubectl(['-n', ns, 'apply', '-f', '-'], pod('csa-equal', EQUAL));
  await kubectl(['-n', ns, 'apply', '--server-side', '-f', '-'], pod('ssa-limits', LIMITS_ONLY));
  await kubectl(['-n', ns, 'apply', '--server-side', '-f', '-'], pod('ssa-equal', EQUAL));
  await kubectl(['-n', ns, 'create', '-f', '-'], pod('created-limits', LIMITS_ONLY));
});

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

const read = async (name: string) => {
  const found = await createCheckContext(loadKubeConfig(), ns).getPod(name);
  if (!found) throw new Error(`no Pod ${name}`);
  // The API server copied the limits into requests in every case.
  expect(found.spec.containers[0]?.resources.requests).toEqual({ cpu: '100m', memory: '64Mi' });
  return writtenResources(found, 'agent');
};

describe('writtenResources on the real API server', () => {
  it('kubectl apply: requests left out are not written; requests equal to the limits are', async () => {
    expect(await read('csa-limits')).toEqual({
      requests: {},
      limits: { cpu: '100m', memory: '64Mi' },
      source: 'last-applied',
    });
    expect(await read('csa-equal')).toMatchObject({ requests: { cpu: '0.1', memory: '64Mi' }, source: 'last-applied' });
  });

  it('kubectl apply --server-side: the same, from field ownership', async () => {
    expect(await read('ssa-limits')).toEqual({
      requests: {},
      limits: { cpu: '100m', memory: '64Mi' },
      source: 'server-side-apply',
    });
    expect(await read('ssa-equal')).toMatchObject({
      requests: { cpu: '100m', memory: '64Mi' },
      source: 'server-side-apply',
    });
  });

  it('kubectl create: only the spec is left, with the copied requests', async () => {
    expect(await read('created-limits')).toMatchObject({ requests: { cpu: '100m' }, source: 'spec' });
  });
});
