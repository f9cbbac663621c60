// Watches a learner namespace for changes to Pods and Jobs, so checks can re-run as the learner works.
import { Watch } from '@kubernetes/client-node';
import type { Kube } from './kube.ts';

/** Calls `onChange` (debounced) whenever a Pod or Job in `namespace` changes; returns a function that stops it. */
export function watchNamespace(kube: Kube, namespace: string, onChange: () => void, debounceMs = 1000): () => void {
  const watch = new Watch(kube.kc);
  const controllers: AbortController[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const start = (path: string) => {
    if (stopped) return;
    watch
      .watch(path, {}, changed, () => {
        // The API server ends watches every few minutes; start again unless we were stopped.
        if (!stopped) setTimeout(() => start(path), 1000).unref();
      })
      .then((controller) => {
        if (stopped) controller.abort();
        else controllers.push(controller);
      })
      .catch(() => {
        if (!stopped) setTimeout(() => start(path), 2000).unref();
      });
  };
  start(`/api/v1/namespaces/${namespace}/pods`);
  start(`/apis/batch/v1/namespaces/${namespace}/jobs`);
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const c of controllers) c.abort();
  };
}
