// Finds a Pod's cgroup on this node, on cgroup v1 (one tree per controller) and v2 (one unified tree), with the
// kubelet's cgroupfs layout (kubepods/<qos>/pod<uid>) or its systemd one (kubepods-<qos>-pod<uid_>.slice).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';
const QOS = ['', 'burstable', 'besteffort'];

/** Where the pids controller lives: v1 mounts it at /sys/fs/cgroup/pids, v2 has every controller at the root. */
function pidsRoot(): string {
  return existsSync(join(ROOT, 'pids', 'kubepods')) || existsSync(join(ROOT, 'pids', 'kubepods.slice'))
    ? join(ROOT, 'pids')
    : ROOT;
}

/** The directory of Pod `uid`'s cgroup in the pids hierarchy, or undefined when the node has none (any more). */
export function podCgroup(uid: string): string | undefined {
  const root = pidsRoot();
  for (const qos of QOS) {
    const cgroupfs = join(root, 'kubepods', qos, `pod${uid}`);
    if (existsSync(cgroupfs)) return cgroupfs;
    const slice = qos ? `kubepods-${qos}` : 'kubepods';
    const parent = join(root, 'kubepods.slice', ...(qos ? [`${slice}.slice`] : []));
    const systemd = join(parent, `${slice}-pod${uid.replaceAll('-', '_')}.slice`);
    if (existsSync(systemd)) return systemd;
  }
  return undefined;
}

/** Whether this node's Pod cgroups can be found at all (some Pod's directory exists): guards against a wrong layout. */
export function anyPodCgroup(): boolean {
  const root = pidsRoot();
  const dirs = [join(root, 'kubepods'), join(root, 'kubepods.slice')].filter(existsSync);
  return dirs.some((dir) =>
    readdirSync(dir, { recursive: true }).some((entry) => /pod[0-9a-f_-]{36}/.test(String(entry))),
  );
}

/** The pids controller's view of a Pod: its limit, processes now, and how often a fork was refused at the limit. */
export function podPids(uid: string): { max: number; current: number; refusals: number } | undefined {
  const dir = podCgroup(uid);
  if (!dir) return undefined;
  const read = (file: string) => readFileSync(join(dir, file), 'utf8').trim();
  const max = read('pids.max');
  return {
    max: max === 'max' ? Number.POSITIVE_INFINITY : Number(max),
    current: Number(read('pids.current')),
    refusals: Number(/^max (\d+)/m.exec(read('pids.events'))?.[1] ?? 0),
  };
}
