// Request bodies: JSON read once, the same way for every route; an empty body is an empty object.
import type { Context } from 'hono';
import type { z } from 'zod';
import { parseOrExplain } from '../protocol/explain.ts';
import { ApiError } from './errors.ts';

/** The body as JSON; a body that is not JSON is a 400 naming the problem, never a 500. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('bad_request', 'the request body is not valid JSON');
  }
}

/** The body parsed by `schema`; a mismatch is a 400 whose message names the field. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return parseOrExplain(schema, await readJson(c), 'body');
}
