// The sandbox server on the real local cluster: blueprint, learner rights, terminal, restart, reaper, warm pool.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getExercise } from '../../exercises/registry.ts';
import { kubectl, kubectlRaw } from '../../tests/support/kubectl.ts';
import { ANNOTATIONS, LABELS } from '../src/cluster/labels.ts';
import { CHECKER_USER } from '../src/sandboxes/checks.ts';
import type { RunningServer } from '../src/server.ts';
import { Learner, startTestServer } from './harness.ts';

let server: RunningServer;
let dataDir: string;
let learner: Learner;
let sandbox: { id: string; namespace: string; status: string; expiresAt: string };

/** Runs kubectl inside the learner's toolbox, with the learner's own (ServiceAccount) identity. */
const asLearner = (ns: string, args: string[], input?: string) =>
  kubectlRaw(['-n', ns, 'exec', '-i', 'toolbox', '-c', 'shell', '--', 'kubectl', ...args], input);

beforeAll(async () => {
  ({ server, dataDir } = await startTestServer());
  learner = new Learner(server.url);
  const created = await learner.request('POST', '/api/sandboxes', {});
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  sandbox = created.json;
});

afterAll(async () => {
  if (sandbox) await kubectlRaw(['delete', 'namespace', sandbox.namespace, '--wait=false']);
  await server?.close();
});

describe('provisioning', () => {
  it('creates every object of the blueprint and a ready toolbox', async () => {
    expect(sandbox.status).toBe('ready');
    expect(sandbox.namespace).toMatch(/^sbx-[0-9a-f]{16}$/);
    const ns = JSON.parse(await kubectl(['get', 'namespace', sandbox.namespace, '-o', 'json']));
    expect(ns.metadata.labels).toMatchObject({
      [LABELS.managed]: 'true',
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    expect(ns.metadata.labels['pod-security.kubernetes.io/warn']).toBeUndefined();
    expect(ns.metadata.annotations[ANNOTATIONS.expiresAt]).toBe(sandbox.expiresAt);
    const n = sandbox.namespace;
    for (const [kind, name] of [
      ['resourcequota', 'sandbox-budget'],
      ['limitrange', 'sandbox-defaults'],
      ['networkpolicy', 'sandbox-isolation'],
      ['serviceaccount', 'learner'],
      ['rolebinding', 'learner'],
      ['rolebinding', 'sidecar-lab-checker'],
      ['pod', 'toolbox'],
    ] as const) {
      expect((await kubectlRaw(['-n', n, 'get', kind, name])).code, `${kind}/${name}`).toBe(0);
    }
    expect((await kubectlRaw(['get', 'validatingadmissionpolicy', 'sidecar-lab-sandbox'])).code).toBe(0);
    // The learner's rights come from one ClusterRole bound in the namespace; no Role of its own to drift.
    const binding = JSON.parse(await kubectl(['-n', n, 'get', 'rolebinding', 'learner', '-o', 'json']));
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'sidecar-lab:learner',
    });
    expect((await kubectlRaw(['-n', n, 'get', 'role', 'learner'])).code).not.toBe(0);
    const sa = JSON.parse(await kubectl(['-n', n, 'get', 'sa', 'default', '-o', 'json']));
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  it("lets the checker patch the one ConfigMap a check changes (config-reload's web-config), and nothing else", async () => {
    const can = async (what: string) =>
      (
        await kubectlRaw(['auth', 'can-i', 'patch', what, '-n', sandbox.namespace, `--as=${CHECKER_USER}`])
      ).stdout.trim();
    expect(await can('configmap/web-config')).toBe('yes');
    expect(await can('configmap/other-config')).toBe('no');
    expect(await can('pod/toolbox')).toBe('no');
  });

  it('returns the same sandbox on a second request from the same learner', async () => {
    const again = await learner.request('POST', '/api/sandboxes', {});
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(sandbox.id);
  });
});

describe("the learner's rights inside the toolbox", () => {
  it('can create a Pod in its own namespace', async () => {
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: mine}\nspec:\n  containers: [{name: c, image: busybox, command: [sleep, "60"]}]\n';
    const result = await asLearner(sandbox.namespace, ['apply', '-f', '-'], pod);
    expect(result.stderr).not.toMatch(/forbidden/i);
    expect(result.code).toBe(0);
    // A container that says nothing about resources gets the LimitRange's defaults, not its maximum.
    const resources = JSON.parse(
      await kubectl(['-n', sandbox.namespace, 'get', 'pod', 'mine', '-o', 'jsonpath={.spec.containers[0].resources}']),
    );
    expect(resources.limits).toEqual({ cpu: '200m', memory: '128Mi', 'ephemeral-storage': '256Mi' });
    expect(resources.requests).toEqual({ cpu: '20m', memory: '32Mi', 'ephemeral-storage': '32Mi' });
  });

  it("applies the seed document's Pod with no Pod Security warning in the learner's terminal", async () => {
    const seed = readFileSync('lessons/manifests/seed-nginx-with-sidecar.yaml', 'utf8');
    const result = await asLearner(sandbox.namespace, ['apply', '--dry-run=server', '-f', '-'], seed);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/PodSecurity/);
  });

  it("cannot read or touch another sandbox's namespace, or the cluster's", async () => {
    const stranger = new Learner(server.url);
    const theirs = await stranger.request('POST', '/api/sandboxes', {});
    expect(theirs.status).toBe(201);
    try {
      for (const args of [
        ['get', 'pods', '-n', theirs.json.namespace],
        ['logs', 'toolbox', '-n', theirs.json.namespace],
        ['delete', 'pod', 'toolbox', '-n', theirs.json.namespace, '--wait=false'],
        ['get', 'pods', '-n', 'kube-system'],
        ['get', 'namespaces'],
      ]) {
        const result = await asLearner(sandbox.namespace, args);
        expect(result.code, args.join(' ')).not.toBe(0);
        expect(result.stderr, args.join(' ')).toMatch(/forbidden/i);
      }
    } finally {
      await kubectlRaw(['delete', 'namespace', theirs.json.namespace, '--wait=false']);
    }
  });

  it('cannot create a privileged or hostPath Pod', async () => {
    const privileged =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: priv}\nspec:\n  containers: [{name: c, image: busybox, securityContext: {privileged: true}}]\n';
    const hostPath =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: hp}\nspec:\n  volumes: [{name: h, hostPath: {path: /}}]\n  containers: [{name: c, image: busybox, volumeMounts: [{name: h, mountPath: /h}]}]\n';
    for (const manifest of [privileged, hostPath]) {
      const result = await asLearner(sandbox.namespace, ['apply', '-f', '-'], manifest);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('violates PodSecurity "baseline:v1.35"');
    }
  });

  it('cannot create RoleBindings', async () => {
    const result = await asLearner(sandbox.namespace, [
      'create',
      'rolebinding',
      'x',
      '--clusterrole=admin',
      '--user=me',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/forbidden/i);
  });

  it('cannot delete or change its own toolbox Pod', async () => {
    const deleted = await asLearner(sandbox.namespace, ['delete', 'pod', 'toolbox', '--wait=false']);
    expect(deleted.code).not.toBe(0);
    expect(deleted.stderr).toContain('the toolbox Pod runs your terminal');
    const labelled = await asLearner(sandbox.namespace, ['label', 'pod', 'toolbox', 'x=y']);
    expect(labelled.code).not.toBe(0);
  });

  it('cannot run an image outside the allow-list', async () => {
    const result = await asLearner(sandbox.namespace, ['run', 'evil', '--image=alpine', '--restart=Never']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('this course allows only these images');
  });
});

describe('the terminal', () => {
  it('runs echo, resizes, and reattaches to the same screen after a disconnect', async () => {
    const first = await learner.terminal(sandbox.id);
    first.type('echo hello-$((6*7))\r');
    await first.waitFor('hello-42');
    first.resize(120, 40);
    // The resize travels on its own channel; ask until the shell has seen it.
    for (let i = 0; i < 20 && !first.output.includes('40 120'); i++) {
      first.type('stty size\r');
      await new Promise((r) => setTimeout(r, 250));
    }
    await first.waitFor('40 120');
    first.type('echo marker-before-disconnect\r');
    await first.waitFor(/marker-before-disconnect[\s\S]*marker-before-disconnect/);
    await first.close();

    const second = await learner.terminal(sandbox.id);
    // tmux redraws the session's screen on attach: the earlier output is still there.
    await second.waitFor('marker-before-disconnect');
    second.type('echo again-$((1+1))\r');
    await second.waitFor('again-2');
    await second.close();
  });

  it('refuses a cross-origin upgrade, and another learner gets 404', async () => {
    await expect(learner.terminal(sandbox.id, 'http://evil.example')).rejects.toThrow('upgrade refused: 403');
    const stranger = new Learner(server.url);
    await stranger.request('GET', '/healthz');
    await expect(stranger.terminal(sandbox.id)).rejects.toThrow('upgrade refused: 404');
  });
});

describe('checks told as they run', () => {
  /** Posts to the streaming check route and returns its status, content type and the NDJSON lines it sent. */
  async function streamChecks(who: Learner, exercise: string) {
    const response = await fetch(`${who.base}/api/sandboxes/${sandbox.id}/checks/${exercise}/stream`, {
      method: 'POST',
      headers: { cookie: who.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ trigger: 'auto' }),
    });
    const text = await response.text();
    const lines = response.ok
      ? text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
      : [];
    return { status: response.status, type: response.headers.get('content-type'), lines, text };
  }

  it("sends each check's verdict in the exercise's order, then the report made of them", async () => {
    const exercise = getExercise('first-sidecar')!;
    const { status, type, lines } = await streamChecks(learner, exercise.id);
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/x-ndjson/);
    const checks = lines.slice(0, -1).map((line) => line.check);
    expect(checks.map((c) => c.id)).toEqual(exercise.checks.map((c) => c.id));
    // Nothing of the exercise is in this namespace: the first check fails, the rest wait for it.
    expect(checks[0].status).toBe('fail');
    const report = lines.at(-1).report;
    expect(report).toMatchObject({ exercise: exercise.id, passed: false, status: 'fail' });
    expect(report.checks).toEqual(checks);
  });

  it('answers an unknown exercise and a stranger with a 404 before any line', async () => {
    const unknown = await streamChecks(learner, 'no-such-exercise');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text).error.code).toBe('not_found');
    const stranger = new Learner(server.url);
    await stranger.request('GET', '/healthz');
    expect((await streamChecks(stranger, 'first-sidecar')).status).toBe(404);
  });
});

describe('restarting the server', () => {
  it('finds the sandbox and its terminal session again', async () => {
    const t = await learner.terminal(sandbox.id);
    t.type('echo survived-$((2*21))\r');
    await t.waitFor('survived-42');
    await t.close();
    await server.close();
    ({ server } = await startTestServer({}, dataDir));
    learner = Object.assign(new Learner(server.url), { cookie: learner.cookie });
    const found = await learner.request('GET', `/api/sandboxes/${sandbox.id}`);
    expect(found.status).toBe(200);
    expect(found.json.status).toBe('ready');
    const again = await learner.terminal(sandbox.id);
    await again.waitFor('survived-42');
    await again.close();
  });
});
