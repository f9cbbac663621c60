// WebSocket upgrades for /api/sandboxes/:id/terminal: Origin, session and ownership are checked before upgrading.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Kube } from '../cluster/kube.ts';
import type { SessionSigner } from '../http/session.ts';
import { MAX_TERMINAL_FRAME_BYTES } from '../protocol/schemas.ts';
import { ownerHash, type Sandboxes } from '../sandboxes/sandboxes.ts';
import { bridgeTerminal } from './bridge.ts';

const PATH = /^\/api\/sandboxes\/([^/]+)\/terminal$/;

export interface UpgradeDeps {
  kube: Kube;
  sandboxes: Sandboxes;
  signer: SessionSigner;
  allowedOrigins: string[];
  log: Logger;
  onConnectionsChange?: (delta: number) => void;
}

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: status === 404 ? 'not_found' : 'unauthorized', message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : status === 409 ? 'Conflict' : 'Unauthorized'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const clamp = (value: string | null, fallback: number) => {
  const n = Number(value);
  return Number.isInteger(n) && n >= 10 && n <= 500 ? n : fallback;
};

/** Returns the `upgrade` listener for the HTTP server, and a way to drop every open terminal on shutdown. */
export function terminalUpgradeHandler(deps: UpgradeDeps) {
  // Frames larger than a paste are refused by ws itself (close code 1009) before they are buffered whole.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TERMINAL_FRAME_BYTES, perMessageDeflate: false });

  const handler = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (!match) return refuse(socket, 404, 'no such endpoint');
    // A CSRF middleware that skips GET does not protect a WebSocket: the Origin must be one of ours.
    const origin = request.headers.origin;
    if (!origin || !deps.allowedOrigins.includes(origin)) {
      deps.log.warn({ origin }, 'refused a terminal from a foreign origin');
      return refuse(socket, 403, 'this terminal can only be opened from the course site');
    }
    const session = deps.signer.fromCookieHeader(request.headers.cookie);
    if (!session) return refuse(socket, 401, 'no valid session; reload the page');
    try {
      const sandbox = await deps.sandboxes.get(match[1]!);
      // Someone else's sandbox looks exactly like a missing one, so ids cannot be probed.
      if (!sandbox || sandbox.owner !== ownerHash(session)) return refuse(socket, 404, 'no such sandbox');
      if (sandbox.status === 'expired' || sandbox.status === 'deleting') {
        return refuse(socket, 409, `the sandbox is ${sandbox.status}`);
      }
      if (await deps.sandboxes.ensureToolbox(sandbox))
        deps.log.info({ sandbox: sandbox.id }, 'recreated a missing toolbox');
      wss.handleUpgrade(request, socket, head, (ws) => {
        deps.onConnectionsChange?.(1);
        void bridgeTerminal(ws, {
          kube: deps.kube,
          namespace: sandbox.namespace,
          sandboxId: sandbox.id,
          size: { cols: clamp(url.searchParams.get('cols'), 100), rows: clamp(url.searchParams.get('rows'), 30) },
          log: deps.log,
          onClose: () => deps.onConnectionsChange?.(-1),
        });
      });
    } catch (error) {
      deps.log.warn({ err: error }, 'terminal upgrade failed');
      refuse(socket, 503, 'the cluster is not answering right now');
    }
  };
  const closeAll = () => {
    for (const client of wss.clients) client.close(1012, 'the server is restarting');
  };
  return { handler, closeAll };
}
