// Turns a zod failure into one sentence that names where the input came from and which field is wrong.
import type { z } from 'zod';

export class ExplainedError extends Error {
  override name = 'ExplainedError';
  readonly issues: ReadonlyArray<{ path: string; message: string }>;
  constructor(message: string, issues: ReadonlyArray<{ path: string; message: string }>) {
    super(message);
    this.issues = issues;
  }
}

/** Parses `input` with `schema`, or throws an ExplainedError such as `config: SIDECAR_LAB_POOL_SIZE: expected …`. */
export function parseOrExplain<S extends z.ZodType>(schema: S, input: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw explainIssues(result.error.issues, where);
}

/** The error for zod issues found in input from `where`: one sentence naming each field and what is wrong with it. */
export function explainIssues(
  zodIssues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  where: string,
): ExplainedError {
  const issues = zodIssues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const detail = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new ExplainedError(`${where}: ${detail}`, issues);
}
