// Who listens on a TCP port inside a Pod, read from /proc by exec: the Pod's network is shared, its processes are not.
import type { CheckContext } from '../model.ts';

/** A listening TCP socket from /proc/net/tcp or tcp6. */
export interface Listener {
  /** "0.0.0.0", "127.0.0.1", "::", "::1", … */
  address: string;
  port: number;
  inode: string;
}

function ipv4(hex: string): string {
  // /proc/net/tcp prints the address as a little-endian 32-bit number.
  const bytes = hex.match(/../g) ?? [];
  return bytes
    .reverse()
    .map((b) => Number.parseInt(b, 16))
    .join('.');
}

function ipv6(hex: string): string {
  if (/^0+$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  if (hex.startsWith('0000000000000000FFFF0000')) return `::ffff:${ipv4(hex.slice(24))}`;
  return hex.toLowerCase();
}

/** Parses /proc/net/tcp and /proc/net/tcp6 text into the sockets in LISTEN state (st 0A). */
export function parseListeners(text: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const [local, , state] = [fields[1], fields[2], fields[3]];
    const inode = fields[9];
    if (!local || state !== '0A' || !inode) continue;
    const [addr, port] = local.split(':');
    if (!addr || !port) continue;
    listeners.push({ address: addr.length > 8 ? ipv6(addr) : ipv4(addr), port: Number.parseInt(port, 16), inode });
  }
  return listeners;
}

/** Socket inodes in `ls -l /proc/<pid>/fd` output ("… -> socket:[12345]"). */
export function parseSocketInodes(text: string): Set<string> {
  return new Set([...text.matchAll(/socket:\[(\d+)\]/g)].map((m) => m[1] as string));
}

/** True for addresses only reachable from inside the Pod. */
export const isLoopback = (address: string) => address.startsWith('127.') || address === '::1';

/** What `inspectPort` found. */
export interface PortOwnership {
  /** Sockets listening on the port anywhere in the Pod's network. */
  listeners: Listener[];
  /** Whether `container`'s own processes hold one of them; undefined when its /proc could not be read. */
  ownedByContainer: boolean | undefined;
  raw: { exitCode: number | null; stderr: string };
}

const SCRIPT = 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; echo "--fds--"; ls -l /proc/[0-9]*/fd 2>/dev/null';

/** Lists who listens on `port` and whether `container`'s processes own the socket, by exec in that container. */
export async function inspectPort(
  ctx: CheckContext,
  pod: string,
  container: string,
  port: number,
): Promise<PortOwnership> {
  const result = await ctx.exec(pod, container, ['sh', '-c', SCRIPT], { timeoutMs: 5000 });
  const [net = '', fds = ''] = result.stdout.split('--fds--');
  const listeners = parseListeners(net).filter((l) => l.port === port);
  const inodes = parseSocketInodes(fds);
  // Any fd link at all (the shell's own stdio) shows /proc was readable, even when no process holds a socket.
  const readable = result.exitCode !== null && result.exitCode !== 127 && fds.includes(' -> ');
  return {
    listeners,
    ownedByContainer: readable ? listeners.some((l) => inodes.has(l.inode)) : undefined,
    raw: { exitCode: result.exitCode, stderr: result.stderr.slice(0, 300) },
  };
}
