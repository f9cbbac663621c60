// One watch stream of the Kubernetes API: newline-delimited JSON events until the server or the caller ends it.
import { type RestClient, timeoutError } from './rest.ts';

/** One event of a watch stream. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

/**
 * Splits newline-delimited JSON into events, keeping a partial last line for the next chunk. Throws on a line that is
 * not JSON (the stream is broken).
 */
export function watchLineSplitter(onEvent: (event: WatchEvent) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
  };
}

/** Where a watch starts and how it behaves. */
export interface WatchParams {
  /** Resume after this version; without it the API server first replays every existing object as ADDED. */
  resourceVersion?: string | undefined;
  /** Ask for BOOKMARK events, which carry a newer resourceVersion while nothing changes. */
  allowWatchBookmarks?: boolean;
  /** The API server ends the watch after this long (default 300). */
  timeoutSeconds?: number;
  /** Bound on the API server accepting the watch (headers back); default 15 s. */
  openTimeoutMs?: number;
}

/**
 * Streams `GET path?watch=1` until `signal` aborts: calls `onEvent` per event, and `onDone` once when the stream
 * ends, fails or is aborted. Resolves once the API server has accepted the watch; rejects when it refuses it or does
 * not answer within `openTimeoutMs` (a stalled API server must not hang a watch forever).
 */
export async function watch(
  rest: RestClient,
  path: string,
  signal: AbortSignal,
  onEvent: (event: WatchEvent) => void,
  onDone: (error?: unknown) => void,
  params: WatchParams = {},
): Promise<void> {
  const query = {
    watch: 1,
    timeoutSeconds: params.timeoutSeconds ?? 300,
    resourceVersion: params.resourceVersion,
    allowWatchBookmarks: params.allowWatchBookmarks ? 'true' : undefined,
  };
  const opening = new AbortController();
  const relay = () => opening.abort();
  if (signal.aborted) opening.abort();
  else signal.addEventListener('abort', relay, { once: true });
  const openTimer = setTimeout(() => opening.abort(timeoutError()), params.openTimeoutMs ?? 15_000);
  let response: Awaited<ReturnType<RestClient['stream']>>;
  try {
    response = await rest.stream({ path, query }, opening.signal);
  } catch (error) {
    throw opening.signal.reason instanceof Error && !signal.aborted ? opening.signal.reason : error;
  } finally {
    clearTimeout(openTimer);
    signal.removeEventListener('abort', relay);
  }
  let done = false;
  const finish = (error?: unknown) => {
    if (done) return;
    done = true;
    onDone(error);
  };
  const split = watchLineSplitter(onEvent);
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    try {
      split(chunk);
    } catch (error) {
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  });
  response.on('end', () => finish());
  response.on('error', finish);
  response.on('close', () => finish());
  if (signal.aborted) response.destroy();
  else signal.addEventListener('abort', () => response.destroy(), { once: true });
}
