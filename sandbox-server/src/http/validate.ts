// Request validation: every body, path and query goes through @hono/zod-validator, and every refusal is our error shape.
import { zValidator } from '@hono/zod-validator';
import type { Context, ValidationTargets } from 'hono';
import type { z } from 'zod';
import { explainIssues } from '../protocol/explain.ts';
import { ApiError } from './errors.ts';

/** How a message names where the bad input came from: `body: minutes: …`, `path: exerciseId: …`. */
const WHERE: Record<keyof ValidationTargets, string> = {
  json: 'body',
  param: 'path',
  query: 'query',
  form: 'form',
  header: 'header',
  cookie: 'cookie',
};

/**
 * zValidator's hook: a failed parse throws, so `onError` answers `400 bad_request` with a message naming each field
 * (the validator's own answer would be zod's raw result, not our shape).
 */
function refuse(result: {
  success: boolean;
  error?: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
  target: keyof ValidationTargets;
}): void {
  if (!result.success && result.error) throw explainIssues(result.error.issues, WHERE[result.target]);
}

/** Path parameters or the query string parsed by `schema`; `c.req.valid(target)` holds the typed result. */
export function valid<T extends z.ZodType, Target extends 'param' | 'query'>(target: Target, schema: T) {
  return zValidator(target, schema, refuse);
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * The JSON body parsed by `schema` (`c.req.valid('json')`). Before the validator sees it, the body is read once here:
 * - empty (with or without `Content-Type: application/json`) is `{}`, deliberately: a body-less POST from curl or a
 *   client that always sends the JSON content type means "no options", and the validator alone would refuse it;
 * - not JSON is `400 bad_request` naming the parser's complaint (the validator alone says only "Malformed JSON");
 * - a non-empty body of another content type is `415`: the validator alone would read it as `{}`, silently.
 */
export function jsonBody<T extends z.ZodType>(schema: T) {
  const validate = zValidator('json', schema, refuse);
  const prepared: typeof validate = async (c, next) => {
    await cacheJson(c);
    return validate(c, next);
  };
  return prepared;
}

/**
 * Reads the body into the request's body cache, where Hono's validator reads it again (`c.req.json()` parses the cached
 * text); an empty body is cached as `{}`.
 */
async function cacheJson(c: Context): Promise<void> {
  const text = await c.req.text();
  if (!text.trim()) {
    // The cache holds promises of each body form (its type says methods); a test pins this reading of an empty body.
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve('{}');
    return;
  }
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ApiError('unsupported_media_type', 'send the body as JSON, with Content-Type: application/json');
  }
  try {
    JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'it is nested too deeply';
    throw new ApiError('bad_request', `the request body is not valid JSON: ${reason}`);
  }
}
