// fetch() for the course API: same origin, the session cookie included, errors turned into ApiRequestError.
import type { ErrorBody } from '../../sandbox-server/src/protocol/schemas.ts';

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

/** Statuses that say "not now" rather than "no": the server or the cluster behind it is briefly unavailable. */
const TRANSIENT = new Set([0, 500, 502, 503, 504]);
const RETRY_DELAYS_MS = [1000, 3000];

/**
 * Like `request`, for calls that are safe to repeat (reads, writing the same file again, running checks): retries
 * twice on a transient failure, so a restarting API server costs the learner a pause instead of an error.
 */
export async function requestIdempotent<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  for (const delay of RETRY_DELAYS_MS) {
    try {
      return await request<T>(method, path, body);
    } catch (error) {
      if (!(error instanceof ApiRequestError && TRANSIENT.has(error.status))) throw error;
      console.warn(`sidecar-lab: ${method} ${path} failed (${error.status}); retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return request<T>(method, path, body);
}

/** Calls the API and returns the JSON body (undefined for 204). Never throws anything but ApiRequestError. */
export async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new ApiRequestError(0, 'network', `${fallbackMessage(0)} (${String(error)})`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as Partial<ErrorBody> | undefined)?.error;
    throw new ApiRequestError(
      response.status,
      error?.code ?? 'http',
      error?.message ?? fallbackMessage(response.status),
    );
  }
  return json as T;
}

/** A message for the learner from anything thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
