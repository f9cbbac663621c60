// Services resolve by DNS name, and NetworkPolicies are enforced (by kube-router) on the real cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectl, kubectlRaw, waitFor, waitForPod } from '../support/kubectl.ts';

let server: string;
let other: string;

const web = `
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers: [{name: nginx, image: "nginx:1.26", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
`;
const client = `
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: client, image: busybox, command: [sleep, "3600"]}]
`;
const denyOtherNamespaces = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: same-namespace-only}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {}}]}]
`;

/** wget from the client Pod in `ns`; true when the page came back. */
async function fetchFrom(ns: string, url: string): Promise<boolean> {
  const result = await kubectlRaw(['-n', ns, 'exec', 'client', '--', 'timeout', '5', 'wget', '-qO-', url]);
  return result.code === 0 && result.stdout.includes('Welcome to nginx!');
}

beforeAll(async () => {
  server = await createNamespace('test-net-a');
  other = await createNamespace('test-net-b');
  await kubectl(['-n', server, 'apply', '-f', '-'], `${web}---${client}`);
  await kubectl(['-n', other, 'apply', '-f', '-'], client);
  await Promise.all([waitForPod(server, 'web'), waitForPod(server, 'client'), waitForPod(other, 'client')]);
});

afterAll(async () => {
  await Promise.all([server && deleteNamespace(server), other && deleteNamespace(other)]);
});

describe('cluster networking', () => {
  it('reaches a ClusterIP Service by its short and full DNS names', async () => {
    // kube-proxy programs a new Service within a second or two of its endpoints becoming ready.
    await waitFor('the Service by short name', () => fetchFrom(server, 'http://web/'), 15_000);
    expect(await fetchFrom(other, `http://web.${server}.svc.cluster.local/`)).toBe(true);
    expect(await fetchFrom(server, 'http://no-such-service/')).toBe(false);
  });

  it('enforces a NetworkPolicy that denies ingress from other namespaces, and lifts it when removed', async () => {
    const url = `http://web.${server}.svc.cluster.local/`;
    await kubectl(['-n', server, 'apply', '-f', '-'], denyOtherNamespaces);
    await waitFor('the policy to block the other namespace', async () => !(await fetchFrom(other, url)), 30_000);
    expect(await fetchFrom(server, url)).toBe(true);
    expect(await fetchFrom(other, url)).toBe(false);

    await kubectl(['-n', server, 'delete', 'networkpolicy', 'same-namespace-only']);
    await waitFor('traffic from the other namespace to flow again', () => fetchFrom(other, url), 30_000);
  });
});
