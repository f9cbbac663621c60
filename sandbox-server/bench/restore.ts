// Coming back: from "Start sandbox" to a shell that answers in a sandbox restored from the learner's save (files and
// objects back), against a plain warm claim of a learner with nothing saved, sampled alternately on one server. The
// save is made untimed before each restore sample, as a learner's "Save and stop" the day before.
import { alternate, failureNote } from './lib/alternate.ts';
import { kubectl, type Lab } from './lib/lab.ts';
import { BenchLearner } from './lib/learner.ts';
import { type BenchResult, resultOf, summarize } from './lib/results.ts';
import type { ServerProcess } from './lib/server.ts';
import { shellAnswers, waitForText } from './lib/terminal.ts';
import { poolHasOne, warmSide } from './ready.ts';

/** What a learner typically leaves: a manifest and a note in the home folder, and a Pod and a ConfigMap from them. */
const POD_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: came-back
spec:
  containers:
    - name: app
      image: nginx:1.26
    - name: helper
      image: busybox
      command: ['sh', '-c', 'while true; do date; sleep 5; done']
`;

/** Makes the learner's work and saves it with "Save and stop"; returns the save's size in bytes. */
async function workAndSave(lab: Lab, server: ServerProcess, learner: BenchLearner, claimed: Set<string>) {
  await poolHasOne(lab, server, claimed);
  const sandbox = await learner.createSandbox();
  lab.tracker.track(sandbox.namespace);
  for (const [path, content] of [
    ['pod.yaml', POD_YAML],
    ['notes/today.txt', 'the proxy listens on 80\n'],
  ]) {
    const written = await learner.request('POST', `/api/sandboxes/${sandbox.id}/files`, { path, content });
    if (written.status !== 204) throw new Error(`writing ${path} answered ${written.status}`);
  }
  const terminal = await learner.terminal(sandbox.id);
  terminal.send(
    'kubectl apply -f pod.yaml && kubectl create configmap settings --from-literal=mode=dev && echo W$((6*7))\r',
  );
  await waitForText(terminal, 'W42', 60_000);
  await terminal.close();
  const saved = await learner.request('POST', `/api/sandboxes/${sandbox.id}/save`, { stop: true });
  if (saved.status !== 201) throw new Error(`save answered ${saved.status}: ${JSON.stringify(saved.json)}`);
  return (saved.json as { size: number }).size;
}

/** The timed part: a claim that restores, until the shell answers; then (untimed) the objects are checked back. */
async function restoredReady(lab: Lab, server: ServerProcess, learner: BenchLearner, claimed: Set<string>) {
  await poolHasOne(lab, server, claimed);
  const t0 = performance.now();
  const created = await learner.request('POST', '/api/sandboxes', {});
  const view = created.json as { id: string; namespace: string; restore?: { restored: boolean; message: string } };
  if (created.status !== 201 || !view.restore?.restored) {
    throw new Error(`the claim did not restore (${created.status}): ${JSON.stringify(view.restore ?? created.json)}`);
  }
  lab.tracker.track(view.namespace);
  const terminal = await learner.terminal(view.id);
  const { at } = await shellAnswers(terminal);
  await terminal.close();
  const back = await kubectl(lab.kubeconfig, [
    '-n',
    view.namespace,
    'get',
    'pod/came-back',
    'configmap/settings',
    '-o',
    'name',
  ]);
  if (back.trim().split('\n').length !== 2) throw new Error(`restored objects missing: ${back}`);
  void lab.tracker.delete(view.namespace);
  return (at - t0) / 1000;
}

export async function restore(lab: Lab): Promise<BenchResult[]> {
  const n = lab.samples(10, 3);
  const server = await lab.startServer(1);
  const claimed = new Set<string>();
  const sizes: number[] = [];
  let done: Awaited<ReturnType<typeof alternate<'baseline' | 'restore'>>>;
  try {
    const plain = warmSide(lab, server);
    done = await alternate(
      {
        baseline: async () => {
          const s = await plain();
          return s.totalMs / 1000;
        },
        restore: async () => {
          const learner = new BenchLearner(server.url);
          await learner.request('GET', '/healthz');
          sizes.push(await workAndSave(lab, server, learner, claimed));
          return restoredReady(lab, server, learner, claimed);
        },
      },
      n,
      { onSample: (side, value) => lab.log(`restore ${side}: ${value.toFixed(2)} s`) },
    );
  } finally {
    await server.stop();
  }
  const size = summarize(sizes);
  return [
    resultOf(
      {
        name: 'restore',
        metric: 'claim with restore → shell answers (Pod, ConfigMap, two files)',
        unit: 's',
        details: { saveBytes: size, failures: done.restore.failures.slice(0, 5) },
        note: failureNote(done.restore, n),
      },
      done.restore.samples,
      { name: 'plain warm claim → shell answers, alternating', samples: done.baseline.samples },
    ),
  ];
}
