// Who is asking: the peer address of a request, for per-address budgets (rate limits, probe limits).
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** The socket's remote address; requests without one (app.request() in tests) share the bucket "local". */
export function peerAddress(incoming: IncomingMessage | undefined): string {
  return incoming?.socket.remoteAddress ?? 'local';
}

/** The peer address of a Hono request served by @hono/node-server. */
export function clientAddress(c: Context): string {
  return peerAddress((c.env as { incoming?: IncomingMessage } | undefined)?.incoming);
}
