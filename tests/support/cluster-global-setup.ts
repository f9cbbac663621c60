// Brings the real local cluster up once for every cluster test file, unless KUBECONFIG points at another cluster.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  if (process.env.SIDECAR_LAB_CLUSTER === 'kubeconfig') return;
  execFileSync('bash', ['sandbox-server/cluster/local/cluster.sh', 'up'], { stdio: 'inherit' });
  const kubeconfig = execFileSync('bash', ['sandbox-server/cluster/local/cluster.sh', 'kubeconfig'], {
    encoding: 'utf8',
  }).trim();
  process.env.KUBECONFIG = kubeconfig;
}
