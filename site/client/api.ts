// The course API for the browser: Hono's typed client over the server's own route types (AppType), so a route or a
// shape that changes on the server breaks the site's typecheck; failures become ApiRequestError with the server's code.
import { type ClientResponse, hc } from 'hono/client';
import type { SuccessStatusCode } from 'hono/utils/http-status';
import type { AppType } from '../../sandbox-server/src/http/app.ts';
import type { ErrorBody } from '../../sandbox-server/src/protocol/schemas.ts';
import { lineReader } from './ndjson.ts';

/** Typed routes: `server.api.sandboxes[':id'].$get({ param: { id } })`. Same origin: the session cookie goes along. */
export const server = hc<AppType>('/', { init: { credentials: 'same-origin' } });

/** A path segment as the server's routes expect it (ids are plain already; this keeps an odd one from changing the path). */
export const segment = (value: string) => encodeURIComponent(value);

/** A failed API call, with the server's error code and its plain-language message. */
export class ApiRequestError extends Error {
  /** HTTP status; 0 when the server could not be reached at all. */
  readonly status: number;
  /** The server's error code (see errorCode in the protocol), or "network"/"http" when it sent none. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = code;
  }
}

/** What to tell the learner for a status the server did not explain (or when the server is not reachable). */
function fallbackMessage(status: number): string {
  if (status === 0) return 'The course server is not reachable. Check your connection and try again.';
  if (status === 429) return 'Too many requests; wait a minute and try again.';
  if (status >= 500) return 'The course server had a problem. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

/** What a successful answer carries: the route's JSON for its 2xx statuses, nothing for a 204. */
export type Success<R> =
  R extends ClientResponse<infer T, infer S, infer F>
    ? S extends SuccessStatusCode
      ? F extends 'json'
        ? T
        : undefined
      : never
    : never;

/** Statuses that say "not now" rather than "no": the server or the cluster behind it is briefly unavailable. */
const TRANSIENT = new Set([0, 500, 502, 503, 504]);
const RETRY_DELAYS_MS = [1000, 3000];

/**
 * Like `call`, for calls that are safe to repeat (reads, writing the same file again, running checks): retries twice
 * on a transient failure, so a restarting API server costs the learner a pause instead of an error.
 */
export async function callIdempotent<R extends ClientResponse<unknown>>(send: () => Promise<R>): Promise<Success<R>> {
  for (const delay of RETRY_DELAYS_MS) {
    try {
      return await call(send);
    } catch (error) {
      if (!(error instanceof ApiRequestError && TRANSIENT.has(error.status))) throw error;
      console.warn(`sidecar-lab: an API call failed (${error.status}); retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return call(send);
}

/** Sends one typed request and returns its JSON (undefined for 204). Never throws anything but ApiRequestError. */
export async function call<R extends ClientResponse<unknown>>(send: () => Promise<R>): Promise<Success<R>> {
  const response = await sendOnce(send);
  if (response.status === 204) return undefined as Success<R>;
  const text = await response.text();
  if (!response.ok) throw failure(response.status, text);
  return parseJson(text) as Success<R>;
}

/**
 * For routes that answer in NDJSON, a line per step as the work goes (the checks, told as they run): hands each line's
 * JSON to `onLine` as it arrives. A refusal before the first line is like `callIdempotent`'s, retried when transient;
 * a connection lost mid-answer is a network ApiRequestError.
 */
export async function callLines(send: () => Promise<LineAnswer>, onLine: (line: unknown) => void): Promise<void> {
  const response = await openLines(send);
  const chunks = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const lines = lineReader();
  for (;;) {
    const { value, done } = await chunks.read().catch((error: unknown) => {
      throw new ApiRequestError(0, 'network', `${fallbackMessage(0)} (${String(error)})`);
    });
    for (const line of done ? lines.end() : lines.push(value)) onLine(line);
    if (done) return;
  }
}

/** The first answer of a line-by-line route that is willing to talk, retrying transient refusals as `callIdempotent`. */
async function openLines(send: () => Promise<LineAnswer>): Promise<LineAnswer & { body: ReadableStream<Uint8Array> }> {
  for (const delay of [...RETRY_DELAYS_MS, undefined]) {
    let refusal: ApiRequestError;
    try {
      const response = await sendOnce(send);
      if (response.ok && response.body) return response as LineAnswer & { body: ReadableStream<Uint8Array> };
      refusal = failure(response.status, await response.text());
    } catch (error) {
      refusal = error as ApiRequestError;
    }
    if (delay === undefined || !TRANSIENT.has(refusal.status)) throw refusal;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  throw new Error('unreachable');
}

/** What a line-by-line route's answer must offer: a typed client's response or fetch's. */
type LineAnswer = Pick<Response, 'ok' | 'status' | 'body' | 'text'>;

async function sendOnce<R extends LineAnswer | ClientResponse<unknown>>(send: () => Promise<R>): Promise<R> {
  try {
    return await send();
  } catch (error) {
    throw new ApiRequestError(0, 'network', `${fallbackMessage(0)} (${String(error)})`);
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The error for a refused request, in the server's words when it sent our error shape. */
function failure(status: number, text: string): ApiRequestError {
  const error = (parseJson(text) as Partial<ErrorBody> | undefined)?.error;
  return new ApiRequestError(status, error?.code ?? 'http', error?.message ?? fallbackMessage(status));
}

/** A message for the learner from anything thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
