// Sandbox ready: from POST /api/sandboxes to a shell that answers in the terminal, cold (no pool) and warm (claimed
// from the pool), against a bare `kubectl run` busybox Pod reaching Ready on the same cluster in the same run.
import { randomBytes } from 'node:crypto';
import { LABELS } from '../src/cluster/labels.ts';
import { alternate, failureNote } from './lib/alternate.ts';
import { kubectl, type Lab } from './lib/lab.ts';
import { BenchLearner } from './lib/learner.ts';
import { type BenchResult, resultOf, summarize, withTarget } from './lib/results.ts';
import type { ServerProcess } from './lib/server.ts';
import { shellAnswers } from './lib/terminal.ts';

export interface ReadySample {
  totalMs: number;
  /** POST /api/sandboxes until its answer. */
  apiMs: number;
  /** WebSocket upgrade until the server's "ready" frame (the exec into tmux is open). */
  attachMs: number;
  /** Probe typed until its answer came back. */
  shellMs: number;
  /** Times the probe was typed: more than one when the shell was still starting and lost the first keystrokes. */
  attempts: number;
  source?: string;
}

/** One learner's way from "Start sandbox" to a shell that answers; the sandbox is deleted afterwards (not timed). */
async function learnerReady(lab: Lab, server: ServerProcess): Promise<ReadySample> {
  await lab.noForeignWarm();
  const learner = new BenchLearner(server.url);
  await learner.request('GET', '/healthz'); // the page load that gives the learner a session, before the click
  const t0 = performance.now();
  const sandbox = await learner.createSandbox();
  const t1 = performance.now();
  lab.tracker.track(sandbox.namespace);
  const terminal = await learner.terminal(sandbox.id);
  const t2 = performance.now();
  const { at: answered, attempts } = await shellAnswers(terminal);
  await terminal.close();
  const claimed = await server.waitForLog((l) => l.msg === 'sandbox claimed' && l.sandbox === sandbox.id, 5000);
  void lab.tracker.delete(sandbox.namespace);
  return {
    totalMs: answered - t0,
    apiMs: t1 - t0,
    attachMs: t2 - t1,
    shellMs: answered - t2,
    attempts,
    ...(claimed.source ? { source: claimed.source } : {}),
  };
}

/** `kubectl run` a busybox Pod, then `kubectl wait --for=condition=Ready`: two kubectl processes, as a user would. */
async function bareKubectlRun(lab: Lab, namespace: string, index: number): Promise<number> {
  const pod = `bb-${index}`;
  const t0 = performance.now();
  await kubectl(lab.kubeconfig, [
    '-n',
    namespace,
    'run',
    pod,
    '--image=busybox',
    '--restart=Never',
    '--command',
    '--',
    'sleep',
    '3600',
  ]);
  await kubectl(lab.kubeconfig, ['-n', namespace, 'wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=120s']);
  const elapsed = performance.now() - t0;
  await kubectl(lab.kubeconfig, ['-n', namespace, 'delete', 'pod', pod, '--wait=false', '--grace-period=0']);
  return elapsed;
}

async function baselineNamespace(lab: Lab): Promise<string> {
  const name = `bench-ready-${randomBytes(4).toString('hex')}`;
  await lab.kube.core.createNamespace({ body: { metadata: { name, labels: { 'sidecar-lab.dev/bench': 'true' } } } });
  lab.tracker.track(name);
  // Pods are refused until the controller-manager has made the default ServiceAccount.
  for (let i = 0; i < 100; i++) {
    try {
      await lab.kube.core.readNamespacedServiceAccount({ namespace: name, name: 'default' });
      return name;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`the default ServiceAccount never appeared in ${name}`);
}

/** Resolves once the server has logged a warm sandbox that is still unclaimed, i.e. the pool can serve a claim. */
async function poolHasOne(lab: Lab, server: ServerProcess, claimed: Set<string>): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    for (const line of server.lines('warm sandbox ready')) {
      if (!line.sandbox || claimed.has(line.sandbox)) continue;
      const ns = await lab.kube.core.readNamespace({ name: `sbx-${line.sandbox}` }).catch(() => undefined);
      if (ns?.metadata?.labels?.[LABELS.pool] === 'warm' && !ns.metadata.deletionTimestamp) return;
      claimed.add(line.sandbox); // gone or taken by someone else: not ours to wait for
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the warm pool did not fill within 180 s');
}

/** A server with a pool of one whose every claim is a real warm claim, with no refill competing with any sample. */
function warmSide(lab: Lab, server: ServerProcess) {
  const claimed = new Set<string>();
  return async (): Promise<ReadySample> => {
    await poolHasOne(lab, server, claimed);
    try {
      return await learnerReady(lab, server);
    } finally {
      const line = server.lines('sandbox claimed').at(-1);
      if (line?.sandbox) claimed.add(line.sandbox);
      // The refill the claim started finishes before the next sample (of any side) begins.
      await poolHasOne(lab, server, claimed);
    }
  };
}

/** A sample of `source` or an error, so a request served the other way is retried like any failed sample. */
async function expectSource(source: 'cold' | 'warm', sample: Promise<ReadySample>): Promise<ReadySample> {
  const s = await sample;
  if (s.source !== source) throw new Error(`a ${source} request was served ${s.source ?? 'from nowhere known'}`);
  return s;
}

export async function ready(lab: Lab): Promise<BenchResult[]> {
  const n = lab.samples(20);
  const namespace = await baselineNamespace(lab);
  const coldServer = await lab.startServer(0);
  const warmServer = await lab.startServer(1);
  const kept = { cold: [] as ReadySample[], warm: [] as ReadySample[] };
  let runs = 0;
  const keep = (kind: 'cold' | 'warm', s: ReadySample) => {
    kept[kind].push(s);
    return s.totalMs / 1000;
  };
  const warm = warmSide(lab, warmServer);
  let done: Awaited<ReturnType<typeof alternate<'baseline' | 'cold' | 'warm'>>>;
  try {
    // One loop, three sides: the baseline alternates with cold and warm samples alike, and a failed sample of any
    // side (a 503 while a colleague's fault test restarts the API server) is retried the same way.
    done = await alternate(
      {
        baseline: async () => (await bareKubectlRun(lab, namespace, runs++)) / 1000,
        cold: async () => keep('cold', await expectSource('cold', learnerReady(lab, coldServer))),
        warm: async () => keep('warm', await expectSource('warm', warm())),
      },
      n,
      { onSample: (side, value) => lab.log(`ready ${side}: ${value.toFixed(2)} s`) },
    );
  } finally {
    await Promise.all([coldServer.stop(), warmServer.stop()]);
  }

  const phases = (samples: ReadySample[]) => ({
    apiMs: summarize(samples.map((s) => s.apiMs)),
    attachMs: summarize(samples.map((s) => s.attachMs)),
    shellMs: summarize(samples.map((s) => s.shellMs)),
    probesRetyped: samples.filter((s) => s.attempts > 1).length,
  });
  const base = {
    name: 'kubectl run busybox → Ready (two kubectl processes), alternating',
    samples: done.baseline.samples,
  };
  const row = (kind: 'cold' | 'warm', metric: string, target: number) =>
    withTarget(
      resultOf(
        {
          name: 'ready',
          metric,
          unit: 's',
          details: { ...phases(kept[kind]), failures: done[kind].failures.slice(0, 5) },
          note: failureNote(done[kind], n),
        },
        done[kind].samples,
        base,
      ),
      `p50 ≤ ${target} s`,
      'p50',
      '<=',
      target,
    );
  return [
    row('warm', 'warm claim → shell answers', 0.5),
    row('cold', 'cold provision → shell answers', 3),
    resultOf(
      {
        name: 'ready',
        metric: 'baseline: kubectl run busybox → Ready',
        unit: 's',
        note: failureNote(done.baseline, n),
        details: { failures: done.baseline.failures.slice(0, 5) },
      },
      done.baseline.samples,
    ),
  ];
}
