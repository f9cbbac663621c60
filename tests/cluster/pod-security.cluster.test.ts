// Pod Security Admission on the real API server: a baseline namespace refuses privileged Pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectlRaw } from '../support/kubectl.ts';

let ns: string;
beforeAll(async () => {
  ns = await createNamespace('test-psa', { 'pod-security.kubernetes.io/enforce': 'baseline' });
});
afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

describe('Pod Security Admission', () => {
  it('rejects a privileged Pod in an enforce: baseline namespace with the API server message', async () => {
    const privileged = `
apiVersion: v1
kind: Pod
metadata: {name: privileged}
spec:
  containers: [{name: c, image: busybox, command: [sleep, "60"], securityContext: {privileged: true}}]
`;
    const result = await kubectlRaw(['-n', ns, 'apply', '-f', '-'], privileged);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('violates PodSecurity "baseline:latest"');
    expect(result.stderr).toContain('privileged');
  });
});
