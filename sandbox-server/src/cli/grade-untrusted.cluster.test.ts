// Grading an untrusted submission on the real cluster: it is applied with a learner's rights inside a sandbox's fences
// (RBAC, quota, network isolation), the grade is still produced for what was applied, and nothing outlives the run.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifests } from '../../../exercises/manifests.ts';
import type { Exercise } from '../../../exercises/model.ts';
import { getExercise } from '../../../exercises/registry.ts';
import { createCheckContext } from '../cluster/check-context.ts';
import { GRADING_BUDGET } from '../cluster/grading-blueprint.ts';
import { deleteGradingNamespace, gradeInFreshNamespace } from '../cluster/grading-namespace.ts';
import { createKube, isNotFound } from '../cluster/kube.ts';
import { loadKubeConfig } from '../cluster/kubeconfig.ts';
import { ANNOTATIONS, LABELS } from '../cluster/labels.ts';

const kc = loadKubeConfig();
const { core } = createKube(kc);
const work = mkdtempSync(join(tmpdir(), 'grade-untrusted-'));
const firstSidecar = readFileSync('exercises/first-sidecar/solution/pod.yaml', 'utf8');

/** A submission: first-sidecar's reference solution followed by `extra` documents. */
function submission(name: string, extra: string): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, `${firstSidecar}\n---\n${extra}`);
  return file;
}

function grade(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['sandbox-server/src/cli/grade.ts', ...args],
      { timeout: 170_000, maxBuffer: 8 << 20 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** True once the namespace is gone or being deleted. */
async function deletedOrDeleting(name: string): Promise<boolean> {
  try {
    return Boolean((await core.readNamespace({ name })).metadata?.deletionTimestamp);
  } catch (error) {
    if (isNotFound(error)) return true;
    throw error;
  }
}

/** How many Pods beyond its hard limit a quota may admit while its controller recounts from a stale cache. */
const QUOTA_RECOUNT_SLACK = 2;

const namespaceIn = (text: string) => text.match(/namespace (ex-first-sidecar-[0-9a-f]{8})/)?.[1] ?? '';

describe.concurrent('npm run grade with an untrusted submission', () => {
  it("refuses a RoleBinding to cluster-admin with the API server's message, and grades the rest", async () => {
    const file = submission(
      'escalate',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: take-over}\n' +
        'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n' +
        'subjects: [{kind: ServiceAccount, name: default}]\n',
    );
    const result = await grade(['--exercise', 'first-sidecar', '--apply', file]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const namespace = namespaceIn(result.stdout);
    expect(result.stdout).toMatch(
      new RegExp(
        `refused: RoleBinding take-over \\(${file}:\\d+\\): rolebindings\\.rbac\\.authorization\\.k8s\\.io is forbidden: ` +
          `User "system:serviceaccount:${namespace}:learner" cannot create resource "rolebindings"`,
      ),
    );
    const checks = getExercise('first-sidecar')?.checks.length;
    expect(result.stdout).toContain(`first-sidecar: PASS (${checks}/${checks} checks passed`);
    expect(await deletedOrDeleting(namespace)).toBe(true);
  });

  it("contains a 1,000-replica Deployment to the quota, with the API server's message", async () => {
    const file = submission(
      'flood',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flood}\nspec:\n  replicas: 1000\n' +
        '  selector: {matchLabels: {app: flood}}\n  template:\n    metadata: {labels: {app: flood}}\n' +
        '    spec:\n      terminationGracePeriodSeconds: 0\n' +
        '      containers: [{name: c, image: busybox, command: [sleep, "3600"]}]\n',
    );
    const args = ['--exercise', 'first-sidecar', '--apply', file, '--format', 'json', '--keep-namespace'];
    const result = await grade(args);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout);
    // Kept only to count what is in it: what the quota lets in, first-sidecar's Pod among them.
    const pods = await core.listNamespacedPod({ namespace: body.namespace });
    await core.deleteNamespace({ name: body.namespace });
    const flood = pods.items.filter((p) => p.metadata?.name?.startsWith('flood-'));
    expect(flood.length).toBeGreaterThan(0);
    // The quota holds the Pods that count against it: those not finished (Succeeded/Failed) and not being deleted.
    // A flood Pod that failed (evicted on a busy node, say) is replaced by its ReplicaSet and still listed.
    const counted = pods.items.filter(
      (p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? '') && !p.metadata?.deletionTimestamp,
    );
    const phases = pods.items.map(
      (p) => `${p.metadata?.name}: ${p.status?.phase}${p.status?.reason ? ` (${p.status.reason})` : ''}`,
    );
    // Kubernetes enforces the quota at admission against the quota's recorded usage, and its quota controller, when it
    // recounts (every five minutes, or when a Pod ends), writes the usage it sees in its cache; a cache that has not yet
    // seen the newest Pods lets a few more in until the next count (kubernetes/kubernetes#123434, open). On a loaded
    // machine that is a Pod or two; a fence that failed would show hundreds.
    expect(counted.length, phases.join('\n')).toBeLessThanOrEqual(GRADING_BUDGET.pods + QUOTA_RECOUNT_SLACK);
    expect(body.passed).toBe(true);
    expect(body.contained).toEqual([
      {
        object: expect.stringMatching(/^ReplicaSet\/flood-/),
        // Whichever of the quota's limits runs out first (Pods, or the CPU limits the LimitRange gives each Pod).
        message: expect.stringMatching(
          /^(\(combined from similar events\): )?Error creating: pods "flood-[^"]+" is forbidden: exceeded quota: sandbox-budget, /,
        ),
        count: expect.any(Number),
      },
    ]);
  });

  it('refuses an answer file that tells the grader where to read the answer', async () => {
    const file = join(work, 'answer.yaml');
    writeFileSync(file, 'answer:\n  fromLogs: {pod: mystery-pod, container: code-keeper, pattern: "(.*)"}\n');
    const result = await grade(['--exercise', 'debug-commands', '--apply', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `grade: ${file}:1: not a valid answer: answer: the answer is the text you found, e.g. answer: "1a2b3c4d"; the grader does not look it up for you\n`,
    );
  });

  it('deletes its namespace when interrupted with Ctrl-C', async () => {
    const child = spawn(process.execPath, [
      'sandbox-server/src/cli/grade.ts',
      '--exercise',
      'first-sidecar',
      '--apply',
      'exercises/first-sidecar/solution',
    ]);
    let stderr = '';
    const created = new Promise<string>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const name = stderr.match(/namespace (ex-first-sidecar-[0-9a-f]{8}) created/)?.[1];
        if (name) resolve(name);
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const namespace = await created;
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain(`grade: deleted ${namespace}`);
    expect(await deletedOrDeleting(namespace)).toBe(true);
  });
});

describe('a submission that connects to another namespace', () => {
  // A web server in a namespace without any NetworkPolicy: only the grading namespace's fences can stop the prober.
  const target = `grading-target-${Date.now().toString(36)}`;
  let targetIp = '';
  beforeAll(async () => {
    await core.createNamespace({
      body: {
        metadata: {
          name: target,
          labels: { [LABELS.managed]: 'true' },
          annotations: { [ANNOTATIONS.expiresAt]: new Date(Date.now() + 15 * 60_000).toISOString() },
        },
      },
    });
    const ctx = createCheckContext(kc, target);
    const server = {
      metadata: { name: 'target' },
      spec: {
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'web',
            image: 'busybox',
            command: ['sh', '-c', 'echo target > /tmp/index.html && httpd -f -p 8080 -h /tmp'],
            resources: { limits: { cpu: '50m', memory: '32Mi' } },
          },
        ],
      },
    };
    // The default ServiceAccount appears a moment after the namespace; Pods are refused until then.
    const created = await ctx.waitFor(
      () =>
        core.createNamespacedPod({ namespace: target, body: server }).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 20_000, intervalMs: 300 },
    );
    expect(created.ok).toBe(true);
    const running = await ctx.waitFor(
      async () => {
        const pod = await ctx.getPod('target');
        return pod?.status.containerStatuses[0]?.state.running ? pod.status.podIP : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    if (!running.ok) throw new Error('the target web server did not start');
    targetIp = running.value;
  });
  afterAll(async () => {
    await deleteGradingNamespace(kc, target); // throws if the API server refuses, so a leftover is seen
  });

  /**
   * A prober's verdicts after its first round, two of them. kube-router programs a new Pod's policy a moment after
   * the Pod starts (seen: up to about a second), so a Pod that connects at once may get its very first request
   * through; what the fences promise is every request after that.
   */
  const afterFirst = (log: string, verdict: RegExp) => (log.match(verdict) ?? []).slice(1, 3);

  /** The log of a looping prober once it has a few verdicts, so one slow first lookup is not taken for one. */
  async function probeLog(namespace: string, pod: string, verdict: RegExp): Promise<string> {
    const ctx = createCheckContext(kc, namespace);
    const log = await ctx.waitFor(
      async () => {
        const text = await ctx.logs(pod, 'prober', { tailLines: 200, limitBytes: 64 * 1024 });
        return (text?.match(verdict)?.length ?? 0) >= 3 ? text : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    if (!log.ok) throw new Error(`${namespace}/${pod} gave no verdicts: ${String(log.last)}`);
    return log.value;
  }

  it('is isolated both ways from another namespace, and the grade is still produced', async () => {
    const prober = `
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - {name: web, image: busybox, command: [sh, -c, "echo inside > /tmp/index.html && httpd -f -p 8080 -h /tmp"]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: prober}
spec:
  containers:
  - name: prober
    image: busybox
    # timeout, not wget -T: this busybox's wget (1.35, Debian) crashes with -T.
    command: [sh, -c]
    args:
    - while true; do
        timeout 3 wget -q -O- http://web:8080/ && echo INSIDE-REACHED;
        timeout 3 wget -q -O- http://${targetIp}:8080/ && echo OUTSIDE-REACHED || echo OUTSIDE-BLOCKED;
        sleep 1;
      done
`;
    const exercise = getExercise('first-sidecar') as Exercise;
    const manifests = parseManifests(`${firstSidecar}\n---\n${prober}`, 'prober.yaml');
    const run = await gradeInFreshNamespace(kc, exercise, manifests, { keepNamespace: true });
    try {
      expect(run.applied.filter((a) => a.error)).toEqual([]);
      expect(run.report.passed).toBe(true);
      const out = await probeLog(run.namespace, 'prober', /OUTSIDE-(REACHED|BLOCKED)/g);
      expect(out).toContain('INSIDE-REACHED');
      expect(afterFirst(out, /OUTSIDE-(REACHED|BLOCKED)/g)).toEqual(['OUTSIDE-BLOCKED', 'OUTSIDE-BLOCKED']);

      // And the other way: from the unfenced namespace, its own server answers (so OUTSIDE-BLOCKED above was the
      // fence, not a dead target) but the grading namespace does not.
      const web = await createCheckContext(kc, run.namespace).getPod('web');
      const loop = `while true; do
        timeout 3 wget -q -O- http://${targetIp}:8080/ && echo OWN-REACHED;
        timeout 3 wget -q -O- http://${web?.status.podIP}:8080/ && echo INTO-REACHED || echo INTO-BLOCKED;
        sleep 1; done`;
      await core.createNamespacedPod({
        namespace: target,
        body: {
          metadata: { name: 'intruder' },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'prober', image: 'busybox', command: ['sh', '-c', loop] }],
          },
        },
      });
      const into = await probeLog(target, 'intruder', /INTO-(REACHED|BLOCKED)/g);
      expect(into).toContain('OWN-REACHED');
      expect(afterFirst(into, /INTO-(REACHED|BLOCKED)/g)).toEqual(['INTO-BLOCKED', 'INTO-BLOCKED']);
    } finally {
      await deleteGradingNamespace(kc, run.namespace);
    }
  });
});
