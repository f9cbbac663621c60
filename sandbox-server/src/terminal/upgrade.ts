// WebSocket upgrades for /api/sandboxes/:id/terminal: Origin, session and ownership are checked before upgrading.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Kube } from '../cluster/kube.ts';
import { peerAddress } from '../http/peer.ts';
import type { ProbeLimiter } from '../http/probe-limit.ts';
import type { SessionSigner } from '../http/session.ts';
import { type ErrorCode, MAX_TERMINAL_FRAME_BYTES } from '../protocol/schemas.ts';
import { ownerHash, SandboxError, type Sandboxes } from '../sandboxes/sandboxes.ts';
import { bridgeTerminal } from './bridge.ts';
import { MAX_TABS, tabSession } from './tmux-clients.ts';

const PATH = /^\/api\/sandboxes\/([^/]+)\/terminal$/;
/** A browser's handshake has about 15 headers; hundreds are an attack on the parser, not a terminal. */
export const MAX_UPGRADE_HEADERS = 64;

export interface UpgradeDeps {
  kube: Kube;
  sandboxes: Sandboxes;
  signer: SessionSigner;
  allowedOrigins: string[];
  log: Logger;
  /** Budget for lookups of sandboxes that are missing or someone else's; shared with the HTTP routes. */
  probes: ProbeLimiter;
  /** Terminals one session may hold open at once; more are refused with 429 before the upgrade. */
  maxPerSession: number;
  onConnectionsChange?: (delta: number) => void;
  /** Called with the sandbox id on every keystroke (binary frame) a learner sends: it keeps the sandbox alive. */
  onInput?: (sandboxId: string) => void;
}

const REFUSALS: Record<number, [reason: string, code: ErrorCode]> = {
  400: ['Bad Request', 'bad_request'],
  401: ['Unauthorized', 'unauthorized'],
  403: ['Forbidden', 'forbidden'],
  404: ['Not Found', 'not_found'],
  409: ['Conflict', 'conflict'],
  429: ['Too Many Requests', 'rate_limited'],
  431: ['Request Header Fields Too Large', 'bad_request'],
  503: ['Service Unavailable', 'cluster_unavailable'],
};

function refuse(socket: Duplex, status: keyof typeof REFUSALS, message: string, retryAfterSeconds?: number): void {
  const [reason, code] = REFUSALS[status]!;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      (retryAfterSeconds ? `Retry-After: ${retryAfterSeconds}\r\n` : '') +
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
  /** Open (and opening) terminals per session; a slot is held until the socket closes, however it ends. */
  const open = new Map<string, number>();
  const takeSlot = (session: string, socket: Duplex): boolean => {
    const held = open.get(session) ?? 0;
    if (held >= deps.maxPerSession) return false;
    open.set(session, held + 1);
    socket.once('close', () => {
      const left = (open.get(session) ?? 1) - 1;
      if (left > 0) open.set(session, left);
      else open.delete(session);
    });
    return true;
  };

  const handler = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (!match) return refuse(socket, 404, 'no such endpoint');
    // Each tab is a tmux session of its own; only a few may exist, so the number is checked before anything else.
    const tab = Number(url.searchParams.get('tab') ?? '1');
    if (!Number.isInteger(tab) || tab < 1 || tab > MAX_TABS) {
      return refuse(socket, 400, `tab must be a whole number from 1 to ${MAX_TABS}`);
    }
    if (request.rawHeaders.length / 2 > MAX_UPGRADE_HEADERS) {
      return refuse(socket, 431, `a terminal handshake may carry at most ${MAX_UPGRADE_HEADERS} headers`);
    }
    // A CSRF middleware that skips GET does not protect a WebSocket: the Origin must be one of ours.
    const origin = request.headers.origin;
    if (!origin || !deps.allowedOrigins.includes(origin)) {
      deps.log.warn({ origin }, 'refused a terminal from a foreign origin');
      return refuse(socket, 403, 'this terminal can only be opened from the course site');
    }
    const session = deps.signer.fromCookieHeader(request.headers.cookie);
    if (!session) return refuse(socket, 401, 'no valid session; reload the page');
    const address = peerAddress(request);
    const wait = await deps.probes.retryAfter(session, address);
    if (wait !== undefined) {
      return refuse(socket, 429, `too many requests for sandboxes that do not exist; wait ${wait} s`, wait);
    }
    if (!takeSlot(session, socket)) {
      return refuse(socket, 429, `at most ${deps.maxPerSession} terminals may be open at once; close one`, 5);
    }
    try {
      const sandbox = await deps.sandboxes.get(match[1]!);
      // Someone else's sandbox looks exactly like a missing one, so ids cannot be probed.
      if (!sandbox || sandbox.owner !== ownerHash(session)) {
        await deps.probes.miss(session, address);
        return refuse(socket, 404, 'no such sandbox');
      }
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
          session: tabSession(tab),
          log: deps.log,
          onClose: () => deps.onConnectionsChange?.(-1),
          ...(deps.onInput ? { onInput: () => deps.onInput?.(sandbox.id) } : {}),
        });
      });
    } catch (error) {
      deps.log.warn({ err: error }, 'terminal upgrade failed');
      // A sandbox that cannot take its toolbox back (its quota is full) says so; anything else is the cluster's.
      if (error instanceof SandboxError && error.code === 'conflict') refuse(socket, 409, error.message);
      else refuse(socket, 503, 'the cluster is not answering right now');
    }
  };
  const closeAll = () => {
    for (const client of wss.clients) client.close(1012, 'the server is restarting');
  };
  return { handler, closeAll };
}
