// Turns an answer file's `answer` into text: as written, or read from a container's log (for reference solutions).
import type { AnswerFile, CheckContext } from './model.ts';

/**
 * The text of `answer`. A `fromLogs` answer polls the container's log (bounded) until the pattern matches, and
 * resolves `undefined` if it never does within `timeoutMs`.
 */
export async function resolveAnswer(
  ctx: Pick<CheckContext, 'logs' | 'waitFor'>,
  answer: AnswerFile['answer'],
  timeoutMs = 15_000,
): Promise<string | undefined> {
  if (typeof answer === 'string') return answer;
  const { pod, container, pattern } = answer.fromLogs;
  const regex = new RegExp(pattern);
  const found = await ctx.waitFor(
    async () => {
      const text = await ctx.logs(pod, container, { tailLines: 500, limitBytes: 64 * 1024 });
      const match = text ? regex.exec(text) : null;
      return match ? (match[1] ?? match[0]) : undefined;
    },
    { timeoutMs, intervalMs: 300 },
  );
  return found.ok ? found.value : undefined;
}
