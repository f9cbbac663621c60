// Exercise: find the code a sidecar printed in the run that crashed, with describe, logs -c and logs --previous
// (seed section 9), and submit it. Every container run prints a fresh code, so only the crashed run's code is right.
import { fail, LOG_BOUNDS, pass } from '../checks/common.ts';
import { containerEvidence, describeState, findContainer, stuckExplanation } from '../checks/pods.ts';
import { type CheckContext, defineExercise, type Pod } from '../model.ts';

const POD = 'mystery-pod';
const APP = 'app';
/** Crashes once, a moment after printing its code; its second run stays up. */
const CRASHER = 'code-keeper';
/** A sidecar that never crashed: its code is a decoy. */
const STEADY = 'log-shipper';
const CONTAINERS = [APP, CRASHER, STEADY];
const SECRET = /secret code: ([0-9a-f]{8})/;
const APP_CODE = /app code: ([0-9a-f]{8})/;
const CODE = /^[0-9a-f]{8}$/;

/** What the Pod's logs say at one moment, read so that no restart happened while reading. */
interface Runs {
  /** code-keeper's restarts: 0 until its first run has crashed. */
  restarts: number;
  /** The code in the log of code-keeper's previous run (the one that crashed), once there is one. */
  crashedRun?: string;
  /** The code of code-keeper's current run, while it is up (in back-off the "current" log is the crashed run's). */
  currentRun?: string;
  /** Codes other containers printed, by container. */
  decoys: Record<string, string | undefined>;
}

const codeIn = (log: string | undefined, pattern: RegExp) => log?.match(pattern)?.[1];

const crasherStatus = (pod: Pod | undefined) => (pod ? findContainer(pod, CRASHER)?.status : undefined);

/** A restart between the two status reads would mix two runs' logs; then the caller reads again. */
async function readRunsOnce(ctx: CheckContext): Promise<Runs | undefined> {
  const before = crasherStatus(await ctx.getPod(POD));
  if (!before) return undefined;
  const [previous, current, app, steady] = await Promise.all([
    before.restartCount > 0 ? ctx.logs(POD, CRASHER, { ...LOG_BOUNDS, previous: true }) : undefined,
    ctx.logs(POD, CRASHER, LOG_BOUNDS),
    ctx.logs(POD, APP, LOG_BOUNDS),
    ctx.logs(POD, STEADY, LOG_BOUNDS),
  ]);
  const after = crasherStatus(await ctx.getPod(POD));
  const running = Boolean(before.state.running && after?.state.running);
  if (!after || after.restartCount !== before.restartCount || Boolean(after.state.running) !== running) return;
  const crashedRun = codeIn(previous, SECRET);
  const currentRun = running ? codeIn(current, SECRET) : undefined;
  return {
    restarts: before.restartCount,
    ...(crashedRun ? { crashedRun } : {}),
    ...(currentRun ? { currentRun } : {}),
    decoys: { [APP]: codeIn(app, APP_CODE), [STEADY]: codeIn(steady, SECRET) },
  };
}

/** `readRunsOnce` until it gets a consistent reading (a few tries); undefined when the Pod is gone. */
async function readRuns(ctx: CheckContext): Promise<Runs | undefined> {
  const read = await ctx.waitFor(async () => ((await ctx.getPod(POD)) ? readRunsOnce(ctx) : { gone: true as const }), {
    timeoutMs: 8_000,
    intervalMs: 300,
  });
  if (!read.ok || 'gone' in read.value) return undefined;
  return read.value;
}

const normalise = (answer: string | undefined) => (answer ?? '').trim().toLowerCase();

export default defineExercise({
  id: 'debug-commands',
  title: 'Debugging a Pod with sidecars',
  goal: `A Pod named \`${POD}\` is already running in your namespace. One of its sidecars **crashed** shortly after
it started, and the kubelet restarted it. Just before it crashed, it printed a **secret code** (8 characters, 0-9 and
a-f) to its log.

Find that code and submit it. Every run of a container prints a new code, so the code in the log of the run that is
up now is not the one you want — nor is any other container's. \`kubectl describe pod\` tells you which container
restarted; \`kubectl logs\` shows one container's current run unless you ask for another container, or for the run
before the restart.`,
  hints: [
    '`kubectl describe pod mystery-pod` lists each container with its `Restart Count` and `Last State`: which one was restarted?',
    '`kubectl logs mystery-pod` shows the default container; add `-c <name>` to read another one.',
    '`kubectl logs mystery-pod -c <name> --previous` shows the log of the run before the last restart.',
  ],
  answer: { prompt: 'The code the sidecar printed before it crashed', placeholder: 'e.g. 1a2b3c4d' },
  answerSource: `kubectl logs ${POD} -c ${CRASHER} --previous`,
  async referenceAnswer(ctx, variant) {
    // Trusted test code: what a learner would read with each command once the crashed run has been replaced. Other
    // broken variants (no answer, not a code, a wrong code) submit their own text.
    const read = await ctx.waitFor(
      async () => {
        const runs = await readRuns(ctx);
        return runs?.crashedRun && runs.currentRun ? runs : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    if (!read.ok) throw new Error(`${CRASHER} has not been restarted with both runs' codes in its logs`);
    const runs = read.value;
    if (variant === undefined) return runs.crashedRun;
    const broken: Record<string, string | undefined> = {
      'answer-matches--current': runs.currentRun,
      'answer-matches--decoy': runs.decoys[STEADY],
      'answer-matches--app-code': runs.decoys[APP],
    };
    return broken[variant];
  },
  checks: [
    {
      id: 'mystery-pod-running',
      title: `Pod "${POD}" is running, and its crashed sidecar has been restarted`,
      hint: `The exercise creates ${POD} when it starts; if you deleted it, restart the exercise.`,
      // The crash comes two seconds after the start, the restart after a back-off of about ten seconds.
      timeoutMs: 45_000,
      async run(ctx) {
        const waited = await ctx.waitFor(
          async () => {
            const pod = await ctx.getPod(POD);
            if (!pod) return { missing: true as const };
            const found = CONTAINERS.map((name) => ({ name, found: findContainer(pod, name) }));
            const stuck = found
              .map(({ name, found: f }) => {
                // code-keeper backs off once before its second run; anything else stuck will not recover.
                const backingOff = name === CRASHER && (f?.status?.restartCount ?? 0) <= 1;
                return f && !(backingOff && f.status?.state.waiting?.reason === 'CrashLoopBackOff')
                  ? stuckExplanation(name, f)
                  : undefined;
              })
              .find(Boolean);
            if (stuck) return { stuck, pod };
            const restarted = (crasherStatus(pod)?.restartCount ?? 0) > 0;
            return restarted && found.every(({ found: f }) => f?.status?.state.running) ? { pod } : false;
          },
          { timeoutMs: 43_000, intervalMs: 500 },
        );
        if (!waited.ok) {
          const pod = await ctx.getPod(POD);
          const state = describeState(crasherStatus(pod));
          return fail(`${POD} is not ready for the exercise yet (${CRASHER} is ${state}); check again in a moment.`);
        }
        const value = waited.value;
        if ('missing' in value) {
          return fail(`There is no Pod named "${POD}": it is created when the exercise starts. Restart the exercise.`);
        }
        const evidence = {
          containers: CONTAINERS.map((n) => findContainer(value.pod, n)).map((f) => f && containerEvidence(f)),
        };
        if ('stuck' in value) return fail(value.stuck ?? `${POD} cannot start.`, evidence);
        return pass(`${POD} is running; ${CRASHER} crashed once and runs again.`, evidence);
      },
    },
    {
      id: 'answer-given',
      title: 'An answer was submitted',
      hint: 'Submit the 8 characters after "secret code:" in the log of the run that crashed.',
      async run(ctx) {
        const answer = normalise(ctx.answer);
        if (!answer) return fail('Submit the secret code you found.', { answer: ctx.answer ?? null });
        if (!CODE.test(answer)) {
          return fail(`"${ctx.answer?.trim()}" does not look like a code: it has 8 characters, digits and a-f.`, {
            answer: ctx.answer,
          });
        }
        return pass('An answer of the right shape was submitted.', { answer });
      },
    },
    {
      id: 'answer-matches',
      title: 'The answer is the code the sidecar printed before it crashed',
      hint: 'Find the container that restarted (`kubectl describe pod`), then read the log of its run before the restart.',
      requires: ['mystery-pod-running', 'answer-given'],
      timeoutMs: 15_000,
      async run(ctx) {
        const answer = normalise(ctx.answer);
        const runs = await readRuns(ctx);
        if (!runs) throw new Error(`could not read ${POD}'s logs consistently: it is gone or restarting`);
        const evidence = { answer, ...runs };
        if (runs.crashedRun === answer)
          return pass(`Right: that is the code ${CRASHER} printed before it crashed.`, evidence);
        if (!runs.crashedRun) {
          return fail(`${CRASHER}'s previous run left no code in its log right now; check again shortly.`, evidence);
        }
        if (runs.currentRun === answer) {
          return fail(
            `That is the code of ${CRASHER}'s current run, which started after the crash. The code you want is in the log of the run before it.`,
            evidence,
          );
        }
        const decoy = Object.entries(runs.decoys).find(([, code]) => code === answer)?.[0];
        if (decoy) {
          return fail(
            `That code comes from the "${decoy}" container, which did not crash. Find the container that was restarted.`,
            evidence,
          );
        }
        return fail('That is not the code the crashed sidecar printed. Read its log again.', evidence);
      },
    },
  ],
});
