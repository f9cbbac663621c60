// Runs the cluster's own kubectl, as a learner would, against the cluster the global setup started.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

function k8sVersion(): string {
  const env = readFileSync('sandbox-server/cluster/local/versions.env', 'utf8');
  const match = /^K8S_VERSION=(\S+)/m.exec(env);
  if (!match?.[1]) throw new Error('K8S_VERSION missing from versions.env');
  return match[1];
}

export const kubectlPath =
  process.env.SIDECAR_LAB_KUBECTL ??
  join(
    process.env.SIDECAR_LAB_CACHE ?? join(homedir(), '.cache', 'sidecar-lab'),
    'bin',
    `k8s-${k8sVersion()}`,
    'kubectl',
  );

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs kubectl and resolves with its output whatever the exit code; `input` goes to stdin. */
export function kubectlRaw(args: string[], input?: string, timeoutMs = 60_000): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(kubectlPath, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs kubectl and returns stdout; throws with kubectl's stderr when it fails. */
export async function kubectl(args: string[], input?: string, timeoutMs?: number): Promise<string> {
  const result = await kubectlRaw(args, input, timeoutMs);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Starts a long-running kubectl (e.g. `logs -f`); the caller kills it. */
export function kubectlStream(args: string[]): ChildProcess {
  return spawn(kubectlPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Polls `probe` until it returns a truthy value or the deadline passes; the error says what was awaited. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Creates a namespace with a random name for one test file; delete it with `deleteNamespace`. */
export async function createNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kubectl(['create', 'namespace', name]);
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (pairs.length) await kubectl(['label', 'namespace', name, ...pairs]);
  // The API server creates the default ServiceAccount asynchronously; Pods are refused until it exists.
  await waitFor(
    `ServiceAccount default in ${name}`,
    async () => (await kubectlRaw(['-n', name, 'get', 'sa', 'default'])).code === 0,
  );
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubectlRaw(['delete', 'namespace', name, '--wait=false']);
}

/** Waits until the Pod's phase is the given one (default Running with every container ready). */
export async function waitForPod(ns: string, pod: string, timeoutMs = 120_000): Promise<void> {
  await kubectl(
    ['-n', ns, 'wait', '--for=condition=Ready', `pod/${pod}`, `--timeout=${Math.round(timeoutMs / 1000)}s`],
    undefined,
    timeoutMs + 5000,
  );
}
