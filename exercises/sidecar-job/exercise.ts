// Exercise 6: a Job whose worker exits while a native sidecar ships its output; the Job must complete.
import { fail, LOG_BOUNDS, pass } from '../checks/common.ts';
import { containerEvidence, describeState, findContainer, isNativeSidecar, podEvidence } from '../checks/pods.ts';
import { type CheckContext, type Container, defineExercise, type Job, type Pod } from '../model.ts';
import { ownedByJob } from '../settle.ts';

const JOB = 'report-job';
const DONE_LINE = 'report-job: done';

/** The exercise's Job, if it exists. */
const getJob = (ctx: CheckContext): Promise<Job | undefined> => ctx.getJob(JOB);

const sidecarsOf = (job: Job) => job.spec.template.spec.initContainers.filter(isNativeSidecar);
const workersOf = (job: Job) => job.spec.template.spec.containers;

/** The Job's most recent Pod. */
async function latestPod(ctx: CheckContext): Promise<Pod | undefined> {
  const pods = (await ctx.listPods()).filter((p) => ownedByJob(p, JOB));
  return pods
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))
    .at(-1);
}

const names = (containers: Container[]) => containers.map((c) => c.name).join(', ');

export default defineExercise({
  id: 'sidecar-job',
  title: 'A sidecar in a Job',
  goal: `Create a Job named \`${JOB}\` whose Pod has:

- a worker container that does its work and exits: it writes a report into a shared volume, ending with the line
  \`${DONE_LINE}\`;
- a **native sidecar** (under \`initContainers\`, with \`restartPolicy: Always\`) that ships the report: it prints
  the file's lines to its stdout.

The Job must complete. With an ordinary sidecar it never would: a Job's Pod finishes only when its containers
have all exited, and a shipper keeps running. Kubernetes stops native sidecars once the worker is done.`,
  hints: [
    'Start from a Job with restartPolicy: Never in its Pod template, an emptyDir volume, and the worker container.',
    'The shipper: `touch /reports/report.txt; tail -F /reports/report.txt`, as an init container with restartPolicy: Always.',
    'When the worker exits, Kubernetes sends the sidecar SIGTERM; a shell running as PID 1 ignores it unless it sets a trap, which keeps the Pod alive for the whole grace period.',
    'Give the shipper a moment to read the last lines: let the worker `sleep 2` after writing.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    { id: 'swap-image:shipper', why: "the goal fixes no image; nginx's image has the same sh, touch and tail" },
    { id: 'swap-image:worker', why: "the goal fixes no image; nginx's image has the same sh, date and sleep" },
    { id: 'rename:shipper', why: "the goal leaves the sidecar's name free" },
    { id: 'rename:worker', why: "the goal leaves the worker's name free" },
  ],
  checks: [
    {
      id: 'job-exists',
      title: `Job "${JOB}" exists`,
      hint: 'Check metadata.name, then `kubectl get jobs`.',
      async run(ctx) {
        const job = await getJob(ctx);
        if (job) return pass(`Job "${JOB}" exists.`);
        const others = (await ctx.listJobs()).map((j) => j.metadata.name);
        return fail(
          `There is no Job named "${JOB}".${others.length ? ` Jobs in your namespace: ${others.join(', ')}.` : ''}`,
          { jobs: others },
        );
      },
    },
    {
      id: 'sidecar-is-native',
      title: 'The shipper is a native sidecar',
      hint: 'Declare the shipper under spec.template.spec.initContainers with restartPolicy: Always.',
      requires: ['job-exists'],
      async run(ctx) {
        const job = await getJob(ctx);
        if (!job) return fail(`The Job "${JOB}" is gone.`);
        const spec = job.spec.template.spec;
        const evidence = { initContainers: spec.initContainers, containers: spec.containers };
        if (sidecarsOf(job).length > 0) {
          return pass(`${names(sidecarsOf(job))} runs as a native sidecar beside ${names(workersOf(job))}.`, evidence);
        }
        if (spec.containers.length > 1) {
          return fail(
            `All containers (${names(spec.containers)}) are ordinary ones, so the Pod only finishes when every one of them has exited, and a shipper never does. Move the shipper to initContainers with restartPolicy: Always.`,
            evidence,
          );
        }
        const plainInit = spec.initContainers.filter((c) => !isNativeSidecar(c));
        if (plainInit.length) {
          return fail(
            `${names(plainInit)} is an init container without restartPolicy: Always: it would have to finish before the worker starts. Add restartPolicy: Always.`,
            evidence,
          );
        }
        return fail("The Job has no sidecar: add a native sidecar that ships the worker's report.", evidence);
      },
    },
    {
      id: 'shares-report-volume',
      title: 'The sidecar and the worker share a volume',
      hint: 'Mount the same emptyDir volume in the worker and in the sidecar.',
      requires: ['sidecar-is-native'],
      async run(ctx) {
        const job = await getJob(ctx);
        if (!job) return fail(`The Job "${JOB}" is gone.`);
        const workerVolumes = new Set(workersOf(job).flatMap((c) => c.volumeMounts.map((m) => m.name)));
        const shared = sidecarsOf(job).flatMap((s) => s.volumeMounts.filter((m) => workerVolumes.has(m.name)));
        const evidence = {
          sidecars: sidecarsOf(job).map((c) => ({ name: c.name, volumeMounts: c.volumeMounts })),
          workers: workersOf(job).map((c) => ({ name: c.name, volumeMounts: c.volumeMounts })),
        };
        if (shared.length) return pass(`They share the volume "${shared[0]?.name}".`, evidence);
        return fail(
          `The sidecar (${names(sidecarsOf(job))}) and the worker (${names(workersOf(job))}) mount no volume in common, so the sidecar cannot read the report.`,
          evidence,
        );
      },
    },
    {
      id: 'job-completes',
      title: 'The Job completes',
      hint: '`kubectl describe job report-job` and `kubectl logs job/report-job --all-containers` show what happened.',
      requires: ['sidecar-is-native'],
      timeoutMs: 60_000,
      async run(ctx) {
        let job: Job | undefined;
        const waited = await ctx.waitFor(
          async () => {
            job = await getJob(ctx);
            const done = job?.status.conditions.find(
              (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
            );
            return done ?? (job ? false : { type: 'Gone', reason: undefined, message: undefined });
          },
          { timeoutMs: 55_000, intervalMs: 500 },
        );
        const pod = await latestPod(ctx);
        const evidence = { jobStatus: job?.status, pod: pod && podEvidence(pod) };
        if (!waited.ok) {
          const states = pod
            ? [...pod.spec.initContainers, ...pod.spec.containers]
                .map((c) => `${c.name} is ${describeState(findContainer(pod, c.name)?.status)}`)
                .join(', ')
            : 'it has no Pod yet';
          return fail(`The Job has not completed after a minute: ${states}.`, evidence);
        }
        const condition = waited.value;
        if (condition.type === 'Complete') return pass(`Job "${JOB}" completed.`, evidence);
        if (condition.type === 'Gone') return fail(`The Job "${JOB}" is gone.`, evidence);
        const exits = pod
          ? pod.spec.containers
              .map((c) => findContainer(pod, c.name))
              .filter((f) => f?.status?.state.terminated)
              .map((f) => `${f?.spec.name} exited with code ${f?.status?.state.terminated?.exitCode}`)
          : [];
        return fail(
          `The Job failed${condition.reason ? ` (${condition.reason})` : ''}${exits.length ? `: ${exits.join(', ')}` : ''}. The worker must exit with code 0.`,
          evidence,
        );
      },
    },
    {
      id: 'report-shipped',
      title: `The sidecar shipped the report (its log shows "${DONE_LINE}")`,
      hint: 'The sidecar should print the report file to its stdout, e.g. with `tail -F`; check with `kubectl logs job/report-job -c <sidecar>`.',
      requires: ['job-completes', 'shares-report-volume'],
      async run(ctx) {
        const job = await getJob(ctx);
        const pod = await latestPod(ctx);
        if (!job || !pod) return fail('The Job or its Pod is gone.');
        const shipped: Record<string, string[]> = {};
        for (const sidecar of sidecarsOf(job)) {
          const text = (await ctx.logs(pod.metadata.name, sidecar.name, LOG_BOUNDS)) ?? '';
          shipped[sidecar.name] = text.split('\n').filter(Boolean);
        }
        const evidence = {
          pod: pod.metadata.name,
          sidecars: sidecarsOf(job).map((c) =>
            containerEvidence({ spec: c, role: 'native-sidecar', status: undefined }),
          ),
          lastLines: Object.fromEntries(Object.entries(shipped).map(([name, lines]) => [name, lines.slice(-10)])),
        };
        const found = Object.entries(shipped).find(([, lines]) => lines.some((l) => l.includes(DONE_LINE)));
        if (found)
          return pass(`${found[0]} shipped the report: its log ends the report with "${DONE_LINE}".`, evidence);
        const seen = Object.entries(shipped)
          .map(([name, lines]) => `${name}: ${lines.length ? lines.slice(-3).join(' | ') : '(empty log)'}`)
          .join('; ');
        return fail(
          `No sidecar log shows "${DONE_LINE}", so the report was not shipped (${seen}). Does the sidecar read the file the worker writes?`,
          evidence,
        );
      },
    },
  ],
});
