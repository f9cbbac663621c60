// What deploy.cluster.test.ts reads off the deployment: the server's Pods (each reachable on its own address from the
// node, so a test can talk to one replica rather than the Service's pick), their open terminals, and the database.
import { kubectl } from '../tests/support/kubectl.ts';

export const NAMESPACE = 'sidecar-lab';
const ns = ['-n', NAMESPACE];

export interface ServerPod {
  name: string;
  /** http://POD_IP:4321: this replica and no other. */
  url: string;
  ready: boolean;
}

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

/** The Pods of a component that are not on their way out. */
export async function podsOf(component: 'server' | 'database'): Promise<PodJson[]> {
  const list = JSON.parse(
    await kubectl([...ns, 'get', 'pod', '-l', `app.kubernetes.io/component=${component}`, '-o', 'json']),
  ) as { items: PodJson[] };
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

const isReady = (p: PodJson) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export async function serverPods(): Promise<ServerPod[]> {
  return (await podsOf('server')).map((p) => ({
    name: p.metadata.name,
    url: `http://${p.status.podIP}:4321`,
    ready: isReady(p),
  }));
}

export const allReady = async (component: 'server' | 'database', count: number) => {
  const pods = await podsOf(component);
  return pods.length === count && pods.every(isReady) ? pods : undefined;
};

/** Open terminal WebSockets on one replica, from its own metrics. */
export async function openTerminals(pod: ServerPod): Promise<number> {
  const text = await (await fetch(`${pod.url}/metrics`)).text();
  const match = /^sidecar_lab_terminal_connections(?:\{[^}]*\})? (\d+)/m.exec(text);
  if (!match) throw new Error(`${pod.name} reports no sidecar_lab_terminal_connections`);
  return Number(match[1]);
}

/** One query in the deployed PostgreSQL, as its superuser over the Pod's own socket; the rows as psql prints them. */
export async function sql(query: string): Promise<string> {
  return (
    await kubectl([
      ...ns,
      'exec',
      'deployment/sidecar-lab-postgres',
      '--',
      'psql',
      '--host=/tmp',
      '--username=postgres',
      '--dbname=sidecar_lab',
      '--no-align',
      '--tuples-only',
      '--command',
      query,
    ])
  ).trim();
}

export const rollOutStatus = (deployment: string) =>
  kubectl([...ns, 'rollout', 'status', `deployment/${deployment}`, '--timeout=300s'], undefined, 330_000);
