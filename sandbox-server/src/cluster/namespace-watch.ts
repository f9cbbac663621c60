// Watches a learner namespace for changes to Pods and Jobs, so checks can re-run as the learner works.
import type { Kube } from './kube.ts';
import { Reflector, type ReflectorOptions } from './reflector.ts';

/** How `watchNamespace` watches; tests shorten the watch timeout to see several restarts. */
export interface NamespaceWatchOptions extends ReflectorOptions {
  /** Changes closer together than this are reported once. */
  debounceMs?: number;
}

/**
 * Calls `onChange` (debounced) whenever a Pod or Job in `namespace` really changes — not when a watch restarts —
 * and returns a function that stops it.
 */
export function watchNamespace(
  kube: Kube,
  namespace: string,
  onChange: () => void,
  options: NamespaceWatchOptions = {},
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, options.debounceMs ?? 1000);
  };
  const reflectors = [
    new Reflector(kube.rest, `/api/v1/namespaces/${namespace}/pods`, changed, options),
    new Reflector(kube.rest, `/apis/batch/v1/namespaces/${namespace}/jobs`, changed, options),
  ];
  for (const reflector of reflectors) reflector.start();
  return () => {
    clearTimeout(timer);
    for (const reflector of reflectors) reflector.stop();
  };
}
