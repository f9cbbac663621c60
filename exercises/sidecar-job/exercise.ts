// Exercise: a Job whose worker exits while a native sidecar ships its output; the Job must complete.
//
// What a pass proves: the worker made up a token when it ran (the token is in the worker's own log and nowhere in the
// Job's spec), the sidecar's log shows that same token and the done line (so it shipped what the worker wrote), and
// the sidecar ran until the worker was done, then stopped by itself within seconds when Kubernetes asked it to.
import { fail, LOG_BOUNDS, pass } from '../checks/common.ts';
import { stopDelayMs, tokenInSpec, tokensIn } from '../checks/job-report.ts';
import { containerEvidence, describeState, findContainer, isNativeSidecar, podEvidence } from '../checks/pods.ts';
import { type CheckContext, type Container, defineExercise, type Job, type Pod } from '../model.ts';
import { ownedByJob } from '../settle.ts';

const JOB = 'report-job';
const DONE_LINE = 'report-job: done';
const TOKEN_PREFIX = 'report-job: token';

/**
 * How long after the worker's end the sidecar may still run. The kubelet sends SIGTERM to a native sidecar once it
 * sees the worker exit (within about a second on an idle node; 3 s measured on our 2-core node under a load of 30),
 * and a sidecar that stops on SIGTERM is gone a moment later. One that ignores it (a shell or tail as PID 1 without a
 * trap) runs out the 30 s grace period and is killed (exit code 137, checked too). Half the grace period separates
 * the two with room for a busy node and the whole-second resolution of finishedAt.
 */
const STOP_BOUND_MS = 15_000;

/** Exit code of a process killed with SIGKILL: what a sidecar gets when it sat out the grace period. */
const KILLED = 137;

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

/** Each container's log lines (bounded), by container name. */
async function logLines(ctx: CheckContext, pod: string, containers: Container[]) {
  const lines: Record<string, string[]> = {};
  for (const c of containers) {
    lines[c.name] = ((await ctx.logs(pod, c.name, LOG_BOUNDS)) ?? '').split('\n').filter(Boolean);
  }
  return lines;
}

const lastLines = (logs: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(logs).map(([name, lines]) => [name, lines.slice(-10)]));

export default defineExercise({
  id: 'sidecar-job',
  title: 'A sidecar in a Job',
  goal: `Create a Job named \`${JOB}\` whose Pod has:

- a worker container that does its work and exits with code 0. When it runs it makes up a random token (at least 8
  letters, digits or dashes, e.g. \`$(cat /proc/sys/kernel/random/uuid)\`), prints the line
  \`${TOKEN_PREFIX} <token>\` to its own log **and** writes the same line into a report file on a shared volume, then
  ends the report with the line \`${DONE_LINE}\`;
- a **native sidecar** (under \`initContainers\`, with \`restartPolicy: Always\`) that ships the report: it prints
  the file's lines to its own log as they are written, keeps running until the worker is done, and stops by itself
  when Kubernetes asks it to (the image's stop signal: SIGTERM for busybox; the nginx image asks with SIGQUIT).

The Job must complete; the sidecar's log must show the worker's token and \`${DONE_LINE}\`; and the sidecar must
stop within ${STOP_BOUND_MS / 1000} seconds of the worker's end, not be killed after the 30-second grace period. The Job's name is
fixed; container, volume and file names, and the images (busybox or nginx), are up to you.

With an ordinary sidecar the Job would never complete: a Job's Pod finishes only when its containers have all exited,
and a shipper keeps running. Kubernetes stops native sidecars once the worker is done.`,
  hints: [
    'Start from a Job with restartPolicy: Never in its Pod template, an emptyDir volume, and the worker container.',
    'The worker: `token=$(cat /proc/sys/kernel/random/uuid); echo "report-job: token $token" | tee -a /reports/report.txt`, then append the done line and `sleep 2` so the shipper reads the last lines.',
    'The shipper: `touch /reports/report.txt; tail -F /reports/report.txt`, as an init container with restartPolicy: Always.',
    "When the worker exits, Kubernetes sends the sidecar SIGTERM; a shell (or tail) running as PID 1 ignores it unless it sets a trap, which keeps the Pod alive for the whole grace period: run tail in the background, `trap 'kill $!; exit 0' TERM`, and `wait`.",
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    { id: 'swap-image:worker', why: "the goal fixes no image; nginx's image has the same sh, date and sleep" },
    { id: 'rename:shipper', why: "the goal leaves the sidecar's name free" },
    { id: 'rename:worker', why: "the goal leaves the worker's name free" },
    {
      id: 'swap-image:writer@accepted/other-names-tail-f',
      why: 'the goal leaves the images to the learner (busybox or nginx)',
    },
    { id: 'rename:log-shipper@accepted/other-names-tail-f', why: 'the goal leaves container names free' },
    { id: 'rename:writer@accepted/other-names-tail-f', why: 'the goal leaves container names free' },
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
            if (done) return done;
            if (!job) return { type: 'Gone', reason: undefined, message: undefined };
            // A Pod that succeeded completes a one-Pod Job; on a busy node the Job controller records it late.
            const succeeded = (await latestPod(ctx))?.status.phase === 'Succeeded';
            return succeeded ? { type: 'Complete', reason: 'PodSucceeded', message: undefined } : false;
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
      title: "The sidecar shipped the worker's report (the worker's token and the done line are in its log)",
      hint: 'The worker prints its token and writes the same line into the report; the sidecar prints the report file to its stdout, e.g. with `tail -F`. Compare `kubectl logs job/report-job -c <worker>` with `-c <sidecar>`.',
      requires: ['job-completes', 'shares-report-volume'],
      async run(ctx) {
        const job = await getJob(ctx);
        const pod = await latestPod(ctx);
        if (!job || !pod) return fail('The Job or its Pod is gone.');
        const podName = pod.metadata.name;
        const worker = await logLines(ctx, podName, workersOf(job));
        const shipped = await logLines(ctx, podName, sidecarsOf(job));
        const token = tokensIn(Object.values(worker).flat().join('\n')).at(-1);
        const evidence = {
          pod: podName,
          token,
          sidecars: sidecarsOf(job).map((c) =>
            containerEvidence({ spec: c, role: 'native-sidecar', status: undefined }),
          ),
          workerLastLines: lastLines(worker),
          sidecarLastLines: lastLines(shipped),
        };
        if (!token) {
          return fail(
            `The worker's log (${names(workersOf(job))}) has no line "${TOKEN_PREFIX} <token>": the worker must print the token it made up, as well as write it into the report.`,
            evidence,
          );
        }
        if (tokenInSpec(token, job.spec.template)) {
          return fail(
            `The token "${token}" is written in the Job itself; the worker must make it up when it runs (e.g. from /proc/sys/kernel/random/uuid), so only the report can tell the sidecar what it is.`,
            evidence,
          );
        }
        const shippedToken = Object.entries(shipped).find(([, lines]) => {
          const at = lines.findIndex((l) => l.includes(`${TOKEN_PREFIX} ${token}`));
          return at >= 0 && lines.slice(at).some((l) => l.includes(DONE_LINE));
        });
        if (shippedToken) {
          return pass(
            `${shippedToken[0]} shipped the worker's report: its log shows the worker's token "${token}" and then "${DONE_LINE}".`,
            evidence,
          );
        }
        const seen = Object.entries(shipped)
          .map(([name, lines]) => `${name}: ${lines.length ? lines.slice(-3).join(' | ') : '(empty log)'}`)
          .join('; ');
        const others = tokensIn(Object.values(shipped).flat().join('\n')).filter((t) => t !== token);
        const why = others.length
          ? ` The sidecar shows the token "${others.at(-1)}", but the worker made up "${token}": it must print what the worker wrote, not a line of its own.`
          : ` Does the sidecar read the file the worker writes, and does the report end with "${DONE_LINE}"?`;
        return fail(
          `No sidecar log shows the worker's token "${token}" followed by "${DONE_LINE}" (${seen}).${why}`,
          evidence,
        );
      },
    },
    {
      id: 'sidecar-stops-promptly',
      title: `The sidecar runs until the worker is done, then stops by itself within ${STOP_BOUND_MS / 1000} s`,
      hint: "A shell (or tail) as PID 1 ignores SIGTERM: run the shipper in the background, `trap 'kill $!; exit 0' TERM`, then `wait`.",
      requires: ['job-completes'],
      async run(ctx) {
        const job = await getJob(ctx);
        const pod = await latestPod(ctx);
        if (!job || !pod) return fail('The Job or its Pod is gone.');
        const workers = workersOf(job).map((c) => findContainer(pod, c.name));
        const sidecars = sidecarsOf(job).map((c) => findContainer(pod, c.name));
        const evidence = { pod: podEvidence(pod) };
        const workerEnd = workers
          .map((w) => w?.status?.state.terminated?.finishedAt)
          .filter((t): t is string => t !== undefined)
          .sort()
          .at(-1);
        if (!workerEnd) return fail('The worker has no recorded end time; it should have exited.', evidence);
        for (const sidecar of sidecars) {
          if (!sidecar) continue;
          const name = sidecar.spec.name;
          const restarts = sidecar.status?.restartCount ?? 0;
          if (restarts > 0) {
            return fail(
              `${name} exited and was restarted ${restarts} time(s) while the worker ran: a shipper keeps running until the worker is done (it must not exit by itself).`,
              evidence,
            );
          }
          const ended = sidecar.status?.state.terminated;
          const delay = stopDelayMs(workerEnd, ended?.finishedAt);
          if (!ended || delay === undefined) {
            return fail(
              `${name} is ${describeState(sidecar.status)}; it should have stopped once the worker was done.`,
              evidence,
            );
          }
          if (ended.exitCode === KILLED || delay > STOP_BOUND_MS) {
            return fail(
              `${name} stopped ${Math.round(delay / 1000)} s after the worker (exit code ${ended.exitCode}): it did not stop when Kubernetes sent SIGTERM${ended.exitCode === KILLED ? ' and was killed' : ''}. A shell or tail as PID 1 ignores SIGTERM unless the script traps it.`,
              evidence,
            );
          }
        }
        const delays = sidecars
          .map(
            (s) =>
              s &&
              `${s.spec.name} ${Math.max(0, Math.round((stopDelayMs(workerEnd, s.status?.state.terminated?.finishedAt) ?? 0) / 1000))} s`,
          )
          .filter(Boolean);
        return pass(`The sidecar stopped promptly after the worker was done (${delays.join(', ')} later).`, evidence);
      },
    },
  ],
});
