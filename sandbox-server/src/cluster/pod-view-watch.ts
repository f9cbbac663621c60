// Keeps the learner's Pods from the namespace watch (the same reflector as the checks' re-runs, no polling) and
// reports the Pod picture whenever it really changes.
import type { V1Pod } from '@kubernetes/client-node';
import type { PodView } from '../protocol/pod-view.ts';
import type { Kube } from './kube.ts';
import { podViewsOf } from './pod-view.ts';
import { Reflector, type ReflectorOptions } from './reflector.ts';

/**
 * A burst of events (a Pod created: scheduled, then each container started) is drawn once. Short on purpose: the
 * picture should follow a change within a second, and the page draws a frame in a few milliseconds.
 */
export const COALESCE_MS = 40;

/**
 * Calls `onPods` with the learner's Pods after the first list and after every change that alters the picture (a new
 * resourceVersion that changes nothing drawn is not sent), and returns a function that stops it.
 */
export function watchPodViews(
  kube: Kube,
  namespace: string,
  onPods: (pods: PodView[]) => void,
  options: ReflectorOptions = {},
): () => void {
  const pods = new Map<string, V1Pod>();
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const publish = () => {
    timer = undefined;
    const views = podViewsOf(pods.values());
    const text = JSON.stringify(views);
    if (text === last) return;
    last = text;
    onPods(views);
  };
  const soon = () => {
    timer ??= setTimeout(publish, COALESCE_MS);
  };
  const keyOf = (pod: V1Pod) => pod.metadata?.uid ?? pod.metadata?.name ?? '';
  const reflector = new Reflector(
    kube.rest,
    `/api/v1/namespaces/${namespace}/pods`,
    // Differences found by a list after 410 Gone come without objects; onList has replaced them all by then.
    () => undefined,
    {
      ...options,
      onObject: (type, object) => {
        const pod = object as V1Pod;
        if (type === 'DELETED') pods.delete(keyOf(pod));
        else pods.set(keyOf(pod), pod);
        soon();
      },
      onList: (items) => {
        pods.clear();
        for (const item of items as V1Pod[]) pods.set(keyOf(item), item);
        // The first frame is sent even when the namespace has no Pod of the learner's yet.
        if (!last) last = '-';
        soon();
      },
    },
  );
  reflector.start();
  return () => {
    clearTimeout(timer);
    reflector.stop();
  };
}
