// Who is asking: the address of a request's client, for per-address budgets (rate limits, probe limits).
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';

/**
 * The proxies whose X-Forwarded-For is believed (an ingress controller, a load balancer). Set once at start-up from
 * SIDECAR_LAB_TRUSTED_PROXIES; empty means the socket's peer is the client, whatever the header says.
 */
let trusted: BlockList | undefined;

/** Parses "10.0.0.0/8, 192.168.1.7, fd00::/8" (addresses or CIDRs); throws naming the first bad entry. */
export function trustedProxies(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`"${entry}" is not an IP address or CIDR range`);
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

export function setTrustedProxies(list: BlockList | undefined): void {
  trusted = list;
}

const isTrusted = (list: BlockList, address: string) => {
  const bare = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const family = isIP(bare);
  return family !== 0 && list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
};

/**
 * The client's address: the socket's peer, or — when that peer is a trusted proxy — the nearest address in
 * X-Forwarded-For that is not one (read from the right, since a client can write anything on the left).
 */
export function clientFrom(socketAddress: string, forwardedFor: string | undefined, list = trusted): string {
  if (!list || !forwardedFor || !isTrusted(list, socketAddress)) return socketAddress;
  const hops = forwardedFor
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  let client = socketAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop.replace(/^::ffff:/, ''))) return client;
    client = hop;
    if (!isTrusted(list, hop)) return client;
  }
  return client;
}

/** Requests without a socket (app.request() in tests) share the bucket "local". */
export function peerAddress(incoming: IncomingMessage | undefined): string {
  const socketAddress = incoming?.socket.remoteAddress;
  if (!socketAddress) return 'local';
  const header = incoming.headers['x-forwarded-for'];
  return clientFrom(socketAddress, Array.isArray(header) ? header.join(',') : header);
}

/** The client address of a Hono request served by @hono/node-server. */
export function clientAddress(c: Context): string {
  return peerAddress((c.env as { incoming?: IncomingMessage } | undefined)?.incoming);
}
