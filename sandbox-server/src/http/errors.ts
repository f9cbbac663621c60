// One error shape for every API failure: { error: { code, message, requestId } } with a status that fits the code.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isUnavailable } from '../cluster/kube.ts';
import { ExplainedError } from '../protocol/explain.ts';
import type { ErrorCode } from '../protocol/schemas.ts';
import { SandboxError } from '../sandboxes/sandboxes.ts';
import { WorkshopError } from '../workshops/workshops.ts';

export const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  capacity: 503,
  cluster_unavailable: 503,
  internal: 500,
  workshop_full: 409,
  workshop_ended: 410,
};

/** Our code for a status Hono's middleware throws (4xx only: a 5xx from Hono is still our fault, logged below). */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function errorJson(c: Context, code: ErrorCode, message: string) {
  const requestId = c.get('requestId') as string | undefined;
  return c.json({ error: { code, message, ...(requestId ? { requestId } : {}) } }, STATUS[code]);
}

/** Maps anything thrown in a handler to the error shape; unexpected errors are logged, not shown. */
export function toErrorResponse(c: Context, error: unknown, log: (error: unknown) => void) {
  if (error instanceof ApiError) return errorJson(c, error.code, error.message);
  if (error instanceof SandboxError || error instanceof WorkshopError) return errorJson(c, error.code, error.message);
  if (error instanceof ExplainedError) return errorJson(c, 'bad_request', error.message);
  // Hono's own middleware signals refusals this way (CSRF: 403); any other status keeps its meaning in our shape.
  if (error instanceof HTTPException) {
    if (error.status === 403)
      return errorJson(c, 'forbidden', 'cross-site requests are not accepted; use the course site');
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) return errorJson(c, code, error.message || 'the request was refused');
  }
  if (isUnavailable(error)) {
    log(error);
    return errorJson(c, 'cluster_unavailable', 'the cluster is not answering right now; try again in a moment');
  }
  log(error);
  return errorJson(c, 'internal', 'something went wrong on our side; it has been logged');
}
