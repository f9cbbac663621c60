// What a lesson's <Run> promises about its command, declared once: Run.astro validates it when the site is built and
// the lessons' self-test (tests/cluster/lessons-self-test.cluster.test.ts) runs the command and holds it to it.
import { z } from 'astro/zod';

/** A Run whose command keeps running or waits for typing; the self-test cannot run it and must be told so. */
export function isInteractive(command: string): boolean {
  return (
    /\blogs\b.*\s(-f|--follow)(\s|=|$)/.test(command) ||
    /\bget\b.*\s(-w|--watch)(\s|=|$)/.test(command) ||
    /\s(-it|-ti|--stdin)(\s|=|$)/.test(command) ||
    /^\s*watch\s/.test(command)
  );
}

/** `/…/flags` is a regular expression; anything else is a substring of the command's output. */
export function expectationMatcher(expect: string): (output: string) => boolean {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(expect);
  if (!regex) return (output) => output.includes(expect);
  const pattern = new RegExp(regex[1]!, regex[2]);
  return (output) => pattern.test(output);
}

export const runSelfTestSchema = z
  .object({
    /** One line of shell. */
    command: z
      .string()
      .trim()
      .min(1)
      .refine((c) => !c.includes('\n'), 'give one line (chain steps with && instead)'),
    /** What the text promises the output (stdout and stderr together) contains: a substring, or `/regex/flags`. */
    expect: z
      .string()
      .min(1)
      .refine((e) => {
        try {
          expectationMatcher(e);
          return true;
        } catch {
          return false;
        }
      }, 'a /regex/ that does not compile')
      .optional(),
    /** The command is meant to fail (exit non-zero), e.g. to show an error message; `expect` then reads that error. */
    fails: z.boolean().optional(),
    /**
     * Seconds within which the promise comes true, for text such as "after a few seconds…": the self-test runs the
     * command again until it holds or this time has passed.
     */
    within: z.number().int().min(1).max(600).optional(),
    /** `skip: <why>` for a command the self-test cannot run (it follows output, waits for typing, needs an exercise). */
    selfTest: z
      .string()
      .regex(/^skip: \S.*$/, 'write selfTest="skip: <the reason>"')
      .optional(),
  })
  .strict()
  .superRefine((run, ctx) => {
    if (isInteractive(run.command) && !run.selfTest) {
      ctx.addIssue({
        code: 'custom',
        path: ['selfTest'],
        message: 'this command keeps running or waits for typing: add selfTest="skip: <the reason>"',
      });
    }
    if (run.selfTest && (run.expect || run.within || run.fails)) {
      ctx.addIssue({ code: 'custom', path: ['selfTest'], message: 'a skipped command promises nothing' });
    }
  });

export type RunSelfTest = z.infer<typeof runSelfTestSchema>;
