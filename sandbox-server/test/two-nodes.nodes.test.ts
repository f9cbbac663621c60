// Two nodes (cluster.sh up --nodes 2): a sandbox on each, and what we promise learners holds across them —
// NetworkPolicy isolation, DNS, Services, the terminal, the checks — and a cordoned or drained node takes no new one.
// Sandboxes are placed by cordoning the other node while the server makes them, as an operator would steer them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlRaw, waitFor } from '../../tests/support/kubectl.ts';
import { FIRST_NODE, nodeOf, SECOND_NODE, withCordoned } from '../../tests/support/nodes.ts';
import type { RunningServer } from '../src/server.ts';
import { Learner, startTestServer } from './harness.ts';

const SOLUTION = readFileSync('exercises/first-sidecar/solution/pod.yaml', 'utf8');

/** Asks the registry, at the address node 2's containerd uses as its mirror, for its catalogue. */
const REGISTRY_PROBE = "printf 'GET /v2/_catalog HTTP/1.0\\r\\n\\r\\n' | nc -w 3 10.240.1.254 5000";

interface Sandbox {
  id: string;
  namespace: string;
  learner: Learner;
}

let server: RunningServer;
let a: Sandbox;
let b: Sandbox;
const namespaces: string[] = [];

async function newSandbox(): Promise<Sandbox> {
  const learner = new Learner(server.url);
  const response = await learner.request('POST', '/api/sandboxes', {});
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  namespaces.push(response.json.namespace);
  return { id: response.json.id, namespace: response.json.namespace, learner };
}

/** An nginx Pod pinned to `node`, labelled for a Service; resolves with its IP once Ready. */
async function webPod(namespace: string, name: string, node: string): Promise<string> {
  const manifest = `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  containers: [{name: web, image: "nginx:1.26"}]
---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {selector: {app: ${name}}, ports: [{port: 80}]}
`;
  await kubectl(['-n', namespace, 'apply', '-f', '-'], manifest);
  await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s']);
  expect(await nodeOf(namespace, name)).toBe(node);
  return kubectl(['-n', namespace, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}']);
}

/** The HTTP status a learner's toolbox gets for `url` ('000' when nothing answers). */
async function statusFrom(namespace: string, url: string): Promise<string> {
  const result = await kubectlRaw([
    '-n',
    namespace,
    'exec',
    'toolbox',
    '-c',
    'shell',
    '--',
    'curl',
    '-s',
    '-m',
    '4',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    url,
  ]);
  return result.stdout;
}

beforeAll(async () => {
  ({ server } = await startTestServer());
  a = await withCordoned(SECOND_NODE, newSandbox);
  b = await withCordoned(FIRST_NODE, newSandbox);
});

afterAll(async () => {
  await Promise.all(namespaces.map((ns) => kubectlRaw(['delete', 'namespace', ns, '--wait=false'])));
  await server?.close();
});

describe('two sandboxes on two nodes', () => {
  it('land on different nodes', async () => {
    expect(await nodeOf(a.namespace, 'toolbox')).toBe(FIRST_NODE);
    expect(await nodeOf(b.namespace, 'toolbox')).toBe(SECOND_NODE);
  });

  it("A's Pod on node 1 cannot reach B's Pod on node 2, while A's own Pod on node 2 answers", async () => {
    const [ownIp, otherIp] = await Promise.all([
      webPod(a.namespace, 'web', SECOND_NODE),
      webPod(b.namespace, 'web', SECOND_NODE),
    ]);
    await waitFor('same-namespace traffic from node 1 to node 2', async () => {
      return (await statusFrom(a.namespace, `http://${ownIp}/`)) === '200';
    });
    // B's Pod does answer its own namespace, so what A gets below is the policy, not a Pod that is not serving.
    await waitFor(
      "B's own traffic on node 2",
      async () => (await statusFrom(b.namespace, `http://${otherIp}/`)) === '200',
    );
    expect(await statusFrom(a.namespace, `http://${otherIp}/`)).toBe('000');
    // And the other way: B's toolbox on node 2 cannot reach A's Pod on node 2 either.
    expect(await statusFrom(b.namespace, `http://${ownIp}/`)).toBe('000');
  });

  it('DNS and a ClusterIP Service work across nodes, both ways', async () => {
    // A's toolbox (node 1) → A's Service "web", whose Pod runs on node 2 (made by the test above, or here).
    await webPod(a.namespace, 'web', SECOND_NODE);
    await waitFor('A reaching its Service on node 2 by name', async () => {
      return (await statusFrom(a.namespace, `http://web.${a.namespace}.svc.cluster.local/`)) === '200';
    });
    // B's toolbox (node 2) → B's Service "back", whose Pod runs on node 1; CoreDNS itself runs on node 1.
    await webPod(b.namespace, 'back', FIRST_NODE);
    await waitFor('B reaching its Service on node 1 by name', async () => {
      return (await statusFrom(b.namespace, 'http://back/')) === '200';
    });
  });

  it("a Pod on node 2 cannot reach the image registry node 2's containerd pulls from", async () => {
    // The registry takes pushes: a Pod that reached it could replace the busybox every learner pulls. A namespace of
    // our own, without the sandboxes' NetworkPolicies, so only the node's own rule stands in the way.
    const namespace = await createNamespace('node2-registry');
    namespaces.push(namespace);
    const manifest = `apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  nodeSelector: {kubernetes.io/hostname: ${SECOND_NODE}}
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, imagePullPolicy: Always, command: [sleep, "3600"]}]
`;
    await kubectl(['-n', namespace, 'apply', '-f', '-'], manifest);
    // Pulled with policy Always: node 2's containerd does reach the registry through the same address.
    await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', 'pod/probe', '--timeout=120s']);
    const probe = await kubectlRaw(['-n', namespace, 'exec', 'probe', '--', 'sh', '-c', REGISTRY_PROBE]);
    expect(probe.stdout).not.toContain('repositories');
    expect(probe.stderr).toMatch(/can't connect|timed out/);
  });

  it('the terminal works for the sandbox on node 2', async () => {
    const terminal = await b.learner.terminal(b.id);
    terminal.type('echo node-$((6*7)) $(cat /etc/hostname)\r');
    await terminal.waitFor('node-42 toolbox');
    await terminal.close();
  });

  it("a check passes for the exercise's Pod on node 2", async () => {
    const written = await b.learner.request('POST', `/api/sandboxes/${b.id}/files`, {
      path: 'pod.yaml',
      content: SOLUTION,
    });
    expect(written.status).toBe(204);
    // Applied as the learner does it, from the toolbox (on node 2) with the learner's own identity.
    await withCordoned(FIRST_NODE, async () => {
      await kubectl([
        '-n',
        b.namespace,
        'exec',
        'toolbox',
        '-c',
        'shell',
        '--',
        'bash',
        '-lc',
        'kubectl apply -f pod.yaml',
      ]);
      await waitFor('the Pod to be scheduled', async () => (await nodeOf(b.namespace, 'first-sidecar')) !== '');
    });
    await kubectl(['-n', b.namespace, 'wait', '--for=condition=Ready', 'pod/first-sidecar', '--timeout=120s']);
    expect(await nodeOf(b.namespace, 'first-sidecar')).toBe(SECOND_NODE);
    await waitFor('every check of first-sidecar to pass', async () => {
      const report = await b.learner.request('POST', `/api/sandboxes/${b.id}/checks/first-sidecar`, {});
      expect(report.status, JSON.stringify(report.json)).toBe(200);
      return report.json.checks.every((c: { status: string }) => c.status === 'pass');
    });
  });

  it('a drained node takes no new sandbox: the next one goes to the other node', async () => {
    await kubectl(['drain', SECOND_NODE, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=120s']);
    try {
      const onlyOne = await newSandbox();
      expect(await nodeOf(onlyOne.namespace, 'toolbox')).toBe(FIRST_NODE);
      const left = await kubectl([
        'get',
        'pods',
        '-A',
        '--field-selector',
        `spec.nodeName=${SECOND_NODE}`,
        '-o',
        'name',
      ]);
      expect(left.trim()).toBe('');
    } finally {
      await kubectl(['uncordon', SECOND_NODE]);
    }
  });
});
