// The `nodes` project: the local cluster with its second node. Runs after the cluster project (package.json's test
// script) and leaves the cluster as it found it: a second node it started goes down again, a taint it lifted is put
// back. This project is about the local cluster's own second node, so it always drives cluster.sh.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { kubectlPath } from './kubectl.ts';
import { SECOND_NODE } from './nodes.ts';

const CLUSTER = 'sandbox-server/cluster/local/cluster.sh';
/** Keeps Pods off node 2 while it is up for someone's own work (README, "Two nodes"); the tests lift it. */
const TAINT = 'sidecar-lab.dev/second-node';

const kubectl = (args: string[]) => execFileSync(kubectlPath, args, { encoding: 'utf8' });

export default function setup(): () => void {
  const wasUp = existsSync('/run/netns/slab-node2');
  execFileSync('bash', [CLUSTER, 'up', '--nodes', '2'], { stdio: 'inherit' });
  process.env.KUBECONFIG = execFileSync('bash', [CLUSTER, 'kubeconfig'], { encoding: 'utf8' }).trim();
  const taints = kubectl(['get', 'node', SECOND_NODE, '-o', `jsonpath={.spec.taints[?(@.key=="${TAINT}")].effect}`]);
  // The tests are about sandboxes as the server makes them, which tolerate nothing: node 2 must take them.
  const tainted = taints.includes('NoSchedule');
  if (tainted) kubectl(['taint', 'node', SECOND_NODE, `${TAINT}:NoSchedule-`]);
  return () => {
    if (!wasUp) execFileSync('bash', [CLUSTER, 'down', '--node', '2'], { stdio: 'inherit' });
    else if (tainted) kubectl(['taint', 'node', SECOND_NODE, `${TAINT}=:NoSchedule`, '--overwrite']);
  };
}
