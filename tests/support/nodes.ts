// The two nodes of the local cluster (cluster.sh up --nodes 2) and how the `nodes` tests steer Pods onto one of them.
import { kubectl } from './kubectl.ts';

export const FIRST_NODE = 'sidecar-lab';
export const SECOND_NODE = 'sidecar-lab-2';

/** The node a Pod was scheduled to ('' while it is pending). */
export const nodeOf = (namespace: string, pod: string) =>
  kubectl(['-n', namespace, 'get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}']);

/**
 * Runs `fn` with `node` cordoned, so everything scheduled meanwhile goes to the other node — as an operator steers
 * sandboxes, which the server makes without any node preference.
 */
export async function withCordoned<T>(node: string, fn: () => Promise<T>): Promise<T> {
  await kubectl(['cordon', node]);
  try {
    return await fn();
  } finally {
    await kubectl(['uncordon', node]);
  }
}
