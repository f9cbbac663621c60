// Watches a learner namespace for changes to Pods and Jobs, so checks can re-run as the learner works.
import type { Kube } from './kube.ts';
import type { RestClient } from './rest.ts';

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

/**
 * Streams `GET path?watch=1` until `signal` aborts: calls `onEvent` per event, and `onDone` once when the stream
 * ends, fails or is aborted. Resolves once the API server has accepted the watch.
 */
export async function watch(
  rest: RestClient,
  path: string,
  signal: AbortSignal,
  onEvent: (event: WatchEvent) => void,
  onDone: (error?: unknown) => void,
): Promise<void> {
  // The API server ends each watch after its timeout (we ask for 5 minutes); the caller starts another.
  const response = await rest.stream({ path, query: { watch: 1, timeoutSeconds: 300 } }, signal);
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

/** Calls `onChange` (debounced) whenever a Pod or Job in `namespace` changes; returns a function that stops it. */
export function watchNamespace(kube: Kube, namespace: string, onChange: () => void, debounceMs = 1000): () => void {
  const active = new Set<AbortController>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const start = (path: string) => {
    if (stopped) return;
    const controller = new AbortController();
    active.add(controller);
    watch(kube.rest, path, controller.signal, changed, () => {
      active.delete(controller);
      // The API server ends watches every few minutes; start again unless we were stopped.
      if (!stopped) setTimeout(() => start(path), 1000).unref();
    }).catch(() => {
      // Refused or unreachable: try again a little later (the cluster may be restarting).
      active.delete(controller);
      if (!stopped) setTimeout(() => start(path), 2000).unref();
    });
  };
  start(`/api/v1/namespaces/${namespace}/pods`);
  start(`/apis/batch/v1/namespaces/${namespace}/jobs`);
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const c of active) c.abort();
  };
}
