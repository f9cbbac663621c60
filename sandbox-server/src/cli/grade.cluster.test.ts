// `npm run grade` as a child process against the real cluster: exit statuses, and the text, JSON and JUnit reports.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifests } from '../../../exercises/manifests.ts';
import type { Exercise } from '../../../exercises/model.ts';
import { getExercise } from '../../../exercises/registry.ts';
import { deleteGradingNamespace, gradeInFreshNamespace } from '../cluster/grading-namespace.ts';
import { loadKubeConfig } from '../cluster/kubeconfig.ts';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function grade(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['sandbox-server/src/cli/grade.ts', ...args],
      { env: { ...process.env, ...env }, timeout: 170_000, maxBuffer: 8 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const work = mkdtempSync(join(tmpdir(), 'grade-cli-'));
const exercise = (id: string) => getExercise(id) as Exercise;

describe.concurrent('npm run grade', () => {
  it('exits 0 and prints every check as PASS for a reference solution', async () => {
    const result = await grade(['--exercise', 'first-sidecar', '--apply', 'exercises/first-sidecar/solution']);
    expect(result.stderr).toContain('settled in');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^first-sidecar: PASS \(7\/7 checks passed in [\d.]+ s, namespace ex-first-sidecar-[0-9a-f]{8}\)/,
    );
    expect(result.stdout.match(/^ {2}PASS {2}/gm)).toHaveLength(7);
  });

  it('exits 1 with the documented JSON shape for a broken variant', async () => {
    const result = await grade([
      '--exercise',
      'logging-sidecar',
      '--apply',
      'exercises/logging-sidecar/broken/collector-mounts-log-volume.yaml',
      '--format',
      'json',
    ]);
    expect(result.code, result.stderr).toBe(1);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ exercise: 'logging-sidecar', passed: false, status: 'fail' });
    for (const check of body.checks) {
      expect(Object.keys(check)).toEqual(expect.arrayContaining(['id', 'title', 'passed', 'message']));
    }
    const first = body.checks.find((c: { passed: boolean }) => !c.passed);
    expect(first.id).toBe('collector-mounts-log-volume');
    expect(first.message).toContain('log-collector does not mount the volume that nginx writes to');
  });

  it('writes JUnit XML with a failure per failed check', async () => {
    const result = await grade([
      '--exercise',
      'sidecar-resources',
      '--apply',
      'exercises/sidecar-resources/broken/sidecar-limits-small--cpu.yaml',
      '--format',
      'junit',
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
    const checks = getExercise('sidecar-resources')?.checks.length;
    expect(result.stdout).toContain(`<testsuite name="sidecar-resources" tests="${checks}" failures="1" errors="0"`);
    expect(result.stdout).toMatch(
      /<testcase classname="sidecar-resources" name="sidecar-limits-small: [^"]*" time="[\d.]+">\n\s+<failure message="log-agent is not lightweight: its cpu limit 200m is more than 100m.">/,
    );
  });

  it('grades a text-answer exercise from --answer', async () => {
    const result = await grade([
      '--exercise',
      'debug-commands',
      '--apply',
      'exercises/debug-commands/starter',
      '--answer',
      'not-a-code',
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('FAIL  answer-given: "not-a-code" does not look like a code');
  });

  it('grades several exercises from a folder with one sub-folder per exercise', async () => {
    const dir = join(work, 'course');
    cpSync('exercises/first-sidecar/solution', join(dir, 'first-sidecar'), { recursive: true });
    mkdirSync(join(dir, 'sidecar-resources'), { recursive: true });
    cpSync('exercises/sidecar-resources/broken/sidecar-has-limits.yaml', join(dir, 'sidecar-resources', 'pod.yaml'));
    const result = await grade(['--apply', dir, '--format', 'json']);
    expect(result.code, result.stderr).toBe(1);
    const body = JSON.parse(result.stdout);
    expect(body.passed).toBe(false);
    expect(body.exercises.map((e: { exercise: string; passed: boolean }) => [e.exercise, e.passed])).toEqual([
      ['first-sidecar', true],
      ['sidecar-resources', false],
    ]);
  });

  it('reports manifests the API server refuses, and fails the checks', async () => {
    const file = join(work, 'typo.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: first-sidecar\nspec:\n  containers:\n  - name: nginx\n    image: nginx:1.26\n    volumeMount: []\n',
    );
    const result = await grade(['--exercise', 'first-sidecar', '--apply', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /refused: Pod first-sidecar \(.*typo\.yaml:1\): .*unknown field "spec\.containers\[0\]\.volumeMount"/,
    );
    expect(result.stdout).toContain('FAIL  pod-exists: There is no Pod named "first-sidecar"');
  });
});

describe.concurrent('npm run grade: bad usage and unreadable manifests exit 2', () => {
  it('without arguments', async () => {
    const result = await grade([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^grade: --apply: give --namespace NS or --apply PATH\n\nUsage: npm run grade/);
  });

  it('for an unknown exercise or option', async () => {
    const unknown = await grade(['--exercise', 'sidecars-101', '--apply', 'exercises/first-sidecar/solution']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown exercise "sidecars-101"');
    const option = await grade(['--exercise', 'first-sidecar', '--aply', 'x']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--aply'");
  });

  it('for YAML that does not parse, naming the file and line', async () => {
    const dir = join(work, 'broken-yaml');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n');
    writeFileSync(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: {a: b\nspec: {}\n');
    const result = await grade(['--exercise', 'first-sidecar', '--apply', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^grade: ${dir}/b\\.yaml:\\d+: invalid YAML: `));
    expect(result.stdout).toBe('');
  });

  it('for a document that is not a Kubernetes object, naming the file and line', async () => {
    const file = join(work, 'not-k8s.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n# second\nkind: Pod\nspec: {}\n');
    const result = await grade(['--exercise', 'first-sidecar', '--apply', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `grade: ${file}:6: not a Kubernetes object (apiVersion is missing; metadata is missing)\n`,
    );
  });

  it('for a path that does not exist', async () => {
    const result = await grade(['--exercise', 'first-sidecar', '--apply', join(work, 'nothing-here')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nothing-here:1: no such file or folder');
  });
});

describe('npm run grade --namespace', () => {
  const kc = loadKubeConfig();
  let namespace = '';
  beforeAll(async () => {
    const solution = exercise('sidecar-resources').solution[0];
    if (!solution) throw new Error('no solution');
    const run = await gradeInFreshNamespace(
      kc,
      exercise('sidecar-resources'),
      parseManifests(solution.content, solution.path),
      {
        keepNamespace: true,
      },
    );
    namespace = run.namespace;
  });
  afterAll(async () => {
    if (namespace) await deleteGradingNamespace(kc, namespace);
  });

  it('checks what runs in an existing namespace, and leaves it alone', async () => {
    const result = await grade([
      '--exercise',
      'sidecar-resources',
      '--namespace',
      namespace,
      '--format',
      'json',
      '--evidence',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ exercise: 'sidecar-resources', passed: true, namespace });
    expect(body.checks.find((c: { id: string }) => c.id === 'sidecar-limits-small').evidence).toMatchObject({
      limits: { cpu: '100m', memory: '64Mi' },
    });
    const other = await grade(['--exercise', 'first-sidecar', '--namespace', namespace]);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain(
      'There is no Pod named "first-sidecar". Pods in your namespace: lightweight-sidecar.',
    );
  });
});

describe.concurrent('npm run grade when the cluster does not answer', () => {
  // A kubeconfig whose API server address refuses connections: the verdict must be "unavailable", never "failed".
  const file = join(work, 'unreachable.kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );

  it('exits 3 with every check an error when checking a namespace', async () => {
    const result = await grade([
      '--exercise',
      'first-sidecar',
      '--namespace',
      'anything',
      '--kubeconfig',
      file,
      '--format',
      'json',
    ]);
    expect(result.code).toBe(3);
    const body = JSON.parse(result.stdout);
    expect(body.status).toBe('error');
    expect(body.checks.every((c: { status: string }) => c.status === 'error')).toBe(true);
    expect(body.checks[0].message).toMatch(/^cluster unavailable: /);
  });

  it('exits 3 when it cannot create the grading namespace', async () => {
    const result = await grade([
      '--exercise',
      'first-sidecar',
      '--apply',
      'exercises/first-sidecar/solution',
      '--kubeconfig',
      file,
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^grade: cluster unavailable: create namespace ex-first-sidecar-[0-9a-f]{8}: /m);
  });
});
