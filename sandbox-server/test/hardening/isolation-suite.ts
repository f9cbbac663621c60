// Hardening — isolation and privilege: each test states the attack a learner tries and the exact outcome. Run by the
// cluster project with the two learners wherever the scheduler puts them (isolation.cluster.test.ts), and by the nodes
// project with learner A on node 1 and B on node 2 (isolation.nodes.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlRaw, waitFor } from '../../../tests/support/kubectl.ts';
import { nodeOf, withCordoned } from '../../../tests/support/nodes.ts';
import type { RunningServer } from '../../src/server.ts';
import { Learner, startTestServer } from '../harness.ts';

/** The node each learner's sandbox and Pods are put on. */
export interface Placement {
  a: string;
  b: string;
}

/** kubectl inside a learner's toolbox, with that learner's own identity. */
const asLearner = (ns: string, args: string[], input?: string) =>
  kubectlRaw(['-n', ns, 'exec', '-i', 'toolbox', '-c', 'shell', '--', 'kubectl', ...args], input);
const inToolbox = (ns: string, script: string) =>
  kubectlRaw(['-n', ns, 'exec', 'toolbox', '-c', 'shell', '--', 'sh', '-c', script]);

const pod = (name: string, spec: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${spec}\n`;
const busybox = '{name: c, image: busybox, command: [sleep, "3600"]';

export function isolationSuite(placement?: Placement) {
  let server: RunningServer;
  let a: { namespace: string };
  let b: { namespace: string };
  /** Pins a Pod to its learner's node when the suite places them. */
  const onNodeOf = (learner: keyof Placement) =>
    placement ? `  nodeSelector: {kubernetes.io/hostname: ${placement[learner]}}\n` : '';

  async function newSandbox() {
    const response = await new Learner(server.url).request('POST', '/api/sandboxes', {});
    expect(response.status, JSON.stringify(response.json)).toBe(201);
    return response.json as { namespace: string };
  }

  beforeAll(async () => {
    ({ server } = await startTestServer());
    if (placement) {
      // Each sandbox is made while the other learner's node is cordoned, so its toolbox lands on its own node.
      a = await withCordoned(placement.b, newSandbox);
      b = await withCordoned(placement.a, newSandbox);
    } else {
      [a, b] = await Promise.all([newSandbox(), newSandbox()]);
    }
  });

  afterAll(async () => {
    await Promise.all(
      [a, b].filter(Boolean).map((s) => kubectlRaw(['delete', 'namespace', s.namespace, '--wait=false'])),
    );
    await server?.close();
  });

  describe("learner A against learner B's namespace", () => {
    if (placement) {
      it("has its toolbox on A's node, B's on B's node", async () => {
        expect([await nodeOf(a.namespace, 'toolbox'), await nodeOf(b.namespace, 'toolbox')]).toEqual([
          placement.a,
          placement.b,
        ]);
      });
    }

    it('cannot list, read logs of, exec into or delete anything there', async () => {
      for (const args of [
        ['get', 'pods'],
        ['get', 'secrets'],
        ['get', 'configmaps'],
        ['logs', 'toolbox'],
        ['exec', 'toolbox', '--', 'id'],
        ['delete', 'pod', 'toolbox', '--wait=false'],
      ]) {
        const result = await asLearner(a.namespace, ['-n', b.namespace, ...args]);
        expect(result.code, args.join(' ')).not.toBe(0);
        expect(result.stderr, args.join(' ')).toMatch(/forbidden/i);
      }
    });

    it('has exactly the allow-listed rights at home and nothing elsewhere (auth can-i --list)', async () => {
      const home = (await asLearner(a.namespace, ['auth', 'can-i', '--list'])).stdout;
      expect(home).toMatch(/pods\/exec\s+\[\]\s+\[\]\s+\[get create\]/);
      expect(home).not.toMatch(/rolebindings|namespaces\s|resourcequotas.*create|networkpolicies.*create/);
      const away = (await asLearner(a.namespace, ['auth', 'can-i', '--list', '-n', b.namespace])).stdout;
      expect(away).not.toMatch(/^pods\s/m);
      expect(away).toMatch(/selfsubjectreviews/);
    });

    it('cannot reach a Pod in B over the network, while same-namespace traffic flows', async () => {
      await kubectl(
        ['-n', b.namespace, 'apply', '-f', '-'],
        pod('web', `${onNodeOf('b')}  containers: [{name: web, image: "nginx:1.26"}]`),
      );
      await kubectl(
        ['-n', a.namespace, 'apply', '-f', '-'],
        pod('web', `${onNodeOf('a')}  containers: [{name: web, image: "nginx:1.26"}]`),
      );
      await kubectl(['-n', b.namespace, 'wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
      await kubectl(['-n', a.namespace, 'wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
      const ipB = await kubectl(['-n', b.namespace, 'get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}']);
      const ipA = await kubectl(['-n', a.namespace, 'get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}']);
      if (placement)
        expect([await nodeOf(a.namespace, 'web'), await nodeOf(b.namespace, 'web')]).toEqual([
          placement.a,
          placement.b,
        ]);
      const fetchFromA = (ip: string) =>
        inToolbox(a.namespace, `curl -s -m 3 -o /dev/null -w '%{http_code}' http://${ip}/`);
      await waitFor('same-namespace traffic', async () => (await fetchFromA(ipA)).stdout === '200', 20_000);
      const cross = await fetchFromA(ipB);
      expect(cross.stdout).not.toBe('200');
      expect(cross.code).not.toBe(0);
    });
  });

  describe('privilege escalation attempts', () => {
    it.each([
      ['privileged', `  containers: [${busybox}, securityContext: {privileged: true}}]`],
      ['hostNetwork', `  hostNetwork: true\n  containers: [${busybox}}]`],
      ['hostPID', `  hostPID: true\n  containers: [${busybox}}]`],
      ['hostIPC', `  hostIPC: true\n  containers: [${busybox}}]`],
      [
        'hostPath',
        `  volumes: [{name: h, hostPath: {path: /}}]\n  containers: [${busybox}, volumeMounts: [{name: h, mountPath: /h}]}]`,
      ],
      ['hostPort', `  containers: [${busybox}, ports: [{containerPort: 80, hostPort: 8080}]}]`],
      ['SYS_ADMIN', `  containers: [${busybox}, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]`],
    ])('a %s Pod is rejected by Pod Security', async (name, spec) => {
      const result = await asLearner(
        a.namespace,
        ['apply', '-f', '-'],
        pod(name.toLowerCase().replace('_', '-'), spec),
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('violates PodSecurity "baseline:v1.35"');
    });

    it('a Deployment of privileged Pods creates none', async () => {
      const deployment = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: sneaky}\nspec:\n  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: {app: s}}\n    spec:\n      containers: [${busybox}, securityContext: {privileged: true}}]\n`;
      const created = await asLearner(a.namespace, ['apply', '-f', '-'], deployment);
      expect(created.code).toBe(0);
      await waitFor(
        'a FailedCreate event',
        async () => {
          const events = await kubectl([
            '-n',
            a.namespace,
            'get',
            'events',
            '--field-selector',
            'reason=FailedCreate',
            '-o',
            'name',
          ]);
          return events.trim().length > 0;
        },
        30_000,
      );
      const pods = await kubectl(['-n', a.namespace, 'get', 'pods', '-l', 'app=s', '-o', 'name']);
      expect(pods.trim()).toBe('');
    });

    it.each([
      ['a Role with every verb', ['create', 'role', 'all', '--verb=*', '--resource=*']],
      [
        'a RoleBinding to admin',
        ['create', 'rolebinding', 'me-admin', '--clusterrole=admin', '--serviceaccount=x:learner'],
      ],
      ['a ClusterRoleBinding', ['create', 'clusterrolebinding', 'me', '--clusterrole=cluster-admin', '--user=me']],
      [
        'turning Pod Security off on its namespace',
        ['label', 'ns', '__NS__', 'pod-security.kubernetes.io/enforce=privileged', '--overwrite'],
      ],
      [
        'moving its own expiry',
        ['annotate', 'ns', '__NS__', 'sidecar-lab.dev/expires-at=2099-01-01T00:00:00Z', '--overwrite'],
      ],
      ['deleting its ResourceQuota', ['delete', 'resourcequota', 'sandbox-budget']],
      [
        'raising its ResourceQuota',
        ['patch', 'resourcequota', 'sandbox-budget', '-p', '{"spec":{"hard":{"pods":"999"}}}'],
      ],
      ['deleting its LimitRange', ['delete', 'limitrange', 'sandbox-defaults']],
      ['deleting its NetworkPolicy', ['delete', 'networkpolicy', 'sandbox-isolation']],
      ['deleting the admission policy', ['delete', 'validatingadmissionpolicy', 'sidecar-lab-sandbox']],
      ['deleting its ServiceAccount', ['delete', 'serviceaccount', 'learner']],
      ['minting a token', ['create', 'token', 'learner']],
      ['reading nodes', ['get', 'nodes']],
    ])('%s is forbidden', async (_what, args) => {
      const result = await asLearner(
        a.namespace,
        args.map((x) => (x === '__NS__' ? a.namespace : x)),
      );
      expect(result.code).not.toBe(0);
      // The API server's Forbidden, as kubectl prints it for a get/delete or for a create it wraps.
      expect(result.stderr).toMatch(
        /Error from server \(Forbidden\)|is forbidden: User "system:serviceaccount:[^"]+:learner" cannot/,
      );
    });

    it('NodePort, LoadBalancer and externalIPs Services are refused', async () => {
      const nodePort = await asLearner(a.namespace, ['create', 'service', 'nodeport', 'np', '--tcp=80:80']);
      expect(nodePort.stderr).toMatch(/exceeded quota.*services\.nodeports/);
      const lb = await asLearner(a.namespace, ['create', 'service', 'loadbalancer', 'lb', '--tcp=80:80']);
      expect(lb.stderr).toMatch(/exceeded quota.*services\.(loadbalancers|nodeports)/);
      const external = `apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec:\n  externalIPs: [10.240.0.1]\n  ports: [{port: 80}]\n`;
      const ext = await asLearner(a.namespace, ['apply', '-f', '-'], external);
      expect(ext.code).not.toBe(0);
      expect(ext.stderr).toMatch(/externalIPs|forbidden/i);
    });

    it('an image outside the allow-list is refused by the admission policy', async () => {
      const result = await asLearner(a.namespace, [
        'run',
        'evil',
        '--image=docker.io/library/alpine:3',
        '--restart=Never',
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('this course allows only these images: busybox, nginx');
    });

    it.each(['a', 'b'] as const)(
      "learner %s's toolbox runs as non-root with no capabilities and no privilege escalation",
      async (learner) => {
        const ns = (learner === 'a' ? a : b).namespace;
        const status = (await inToolbox(ns, 'id -u; grep -E "^(NoNewPrivs|CapEff)" /proc/self/status')).stdout;
        expect(status).toMatch(/^1000\n/);
        expect(status).toMatch(/NoNewPrivs:\s+1/);
        expect(status).toMatch(/CapEff:\s+0000000000000000/);
        const mount = await inToolbox(ns, 'mount -t tmpfs none /tmp 2>&1; echo rc=$?');
        expect(mount.stdout).toMatch(/rc=[1-9]/);
      },
    );

    it('the toolbox token is short-lived and works only in its own namespace', async () => {
      const token = (
        await inToolbox(a.namespace, 'cat /var/run/secrets/kubernetes.io/serviceaccount/token')
      ).stdout.trim();
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      expect(claims.exp - claims.iat).toBeLessThanOrEqual(3600);
      expect(claims['kubernetes.io'].namespace).toBe(a.namespace);
      const server = await apiServer();
      /** kubectl from outside the cluster with nothing but the token. */
      const withToken = (args: string[]) =>
        kubectlRaw([
          '--token',
          token,
          '--kubeconfig',
          '/dev/null',
          '--server',
          server,
          '--insecure-skip-tls-verify',
          ...args,
        ]);
      expect((await withToken(['-n', a.namespace, 'get', 'pods'])).code).toBe(0);
      expect((await withToken(['-n', b.namespace, 'get', 'pods'])).stderr).toMatch(/forbidden/i);
      const impersonating = await withToken(['--as=admin', '-n', a.namespace, 'get', 'pods']);
      expect(impersonating.stderr).toMatch(/cannot impersonate/i);
    });
  });
}

async function apiServer(): Promise<string> {
  return (await kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).trim();
}
