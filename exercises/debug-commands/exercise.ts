// Exercise 9: find a code a sidecar logged, with kubectl get/describe/logs (seed section 9), and submit it.
import { fail, LOG_BOUNDS, pass } from '../checks/common.ts';
import { containerEvidence, describeState, findContainer, stuckExplanation } from '../checks/pods.ts';
import { type CheckContext, defineExercise } from '../model.ts';

const POD = 'mystery-pod';
const SIDECAR = 'code-keeper';
const APP = 'app';
const SECRET = /secret code: ([0-9a-f]{8})/g;
const DECOY = /app code: ([0-9a-f]{8})/g;
const CODE = /^[0-9a-f]{8}$/;

/** Every code matching `pattern` in the container's current and previous log (it draws a new one per start). */
async function codesIn(ctx: CheckContext, container: string, pattern: RegExp): Promise<string[]> {
  const [current, previous] = await Promise.all([
    ctx.logs(POD, container, LOG_BOUNDS),
    ctx.logs(POD, container, { ...LOG_BOUNDS, previous: true }),
  ]);
  const text = `${previous ?? ''}\n${current ?? ''}`;
  return [...text.matchAll(pattern)].map((m) => m[1] as string);
}

const normalise = (answer: string | undefined) => (answer ?? '').trim().toLowerCase();

export default defineExercise({
  id: 'debug-commands',
  title: 'Debugging a Pod with sidecars',
  goal: `A Pod named \`${POD}\` is already running in your namespace. One of its containers is a sidecar that wrote
a **secret code** (8 characters, 0-9 and a-f) to its log when it started.

Use the commands you know — \`kubectl get pods\`, \`kubectl describe pod\`, \`kubectl logs\` — to find which container
that is and read the code, then submit it. Careful: \`kubectl logs ${POD}\` alone shows only one container.`,
  hints: [
    '`kubectl describe pod mystery-pod` lists the containers under "Containers:".',
    '`kubectl logs mystery-pod` shows the default container; add `-c <name>` for another one.',
    '`kubectl logs mystery-pod --all-containers --prefix` shows every container, each line prefixed with its name.',
  ],
  answer: { prompt: 'The secret code the sidecar logged', placeholder: 'e.g. 1a2b3c4d' },
  checks: [
    {
      id: 'mystery-pod-running',
      title: `Pod "${POD}" is running`,
      hint: `The exercise creates ${POD} when it starts; if you deleted it, restart the exercise.`,
      timeoutMs: 30_000,
      async run(ctx) {
        const waited = await ctx.waitFor(
          async () => {
            const pod = await ctx.getPod(POD);
            if (!pod) return { missing: true as const };
            const found = [APP, SIDECAR].map((n) => findContainer(pod, n));
            const stuck = found.map((f, i) => f && stuckExplanation([APP, SIDECAR][i] as string, f)).find(Boolean);
            if (stuck) return { stuck, pod };
            return found.every((f) => f?.status?.state.running) ? { pod } : false;
          },
          { timeoutMs: 28_000, intervalMs: 500 },
        );
        if (!waited.ok) return fail(`${POD} is not running yet; wait a moment and check again.`);
        const value = waited.value;
        if ('missing' in value) {
          return fail(`There is no Pod named "${POD}": it is created when the exercise starts. Restart the exercise.`);
        }
        const evidence = {
          containers: [APP, SIDECAR].map((n) => findContainer(value.pod, n)).map((f) => f && containerEvidence(f)),
        };
        if ('stuck' in value) return fail(value.stuck ?? `${POD} cannot start.`, evidence);
        return pass(`${POD} is running.`, evidence);
      },
    },
    {
      id: 'answer-given',
      title: 'An answer was submitted',
      hint: 'Submit the 8 characters after "secret code:" in the sidecar\'s log.',
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
      title: "The answer is the sidecar's secret code",
      hint: 'Read the log of the other container: `kubectl logs mystery-pod -c <container>`.',
      requires: ['mystery-pod-running', 'answer-given'],
      async run(ctx) {
        const answer = normalise(ctx.answer);
        const [secrets, decoys] = await Promise.all([codesIn(ctx, SIDECAR, SECRET), codesIn(ctx, APP, DECOY)]);
        const evidence = { answer, codesInSidecarLog: secrets, codesInAppLog: decoys };
        if (secrets.includes(answer)) return pass(`Right: that is the code ${SIDECAR} logged.`, evidence);
        if (secrets.length === 0) {
          const pod = await ctx.getPod(POD);
          const state = pod ? describeState(findContainer(pod, SIDECAR)?.status) : 'gone';
          return fail(
            `${SIDECAR}'s log shows no code right now (${SIDECAR} is ${state}); try again shortly.`,
            evidence,
          );
        }
        if (decoys.includes(answer)) {
          return fail(
            `That code comes from the "${APP}" container, which \`kubectl logs ${POD}\` shows by default. The secret code is in the sidecar's log.`,
            evidence,
          );
        }
        return fail('That is not the code the sidecar logged. Read its log again.', evidence);
      },
    },
  ],
});
