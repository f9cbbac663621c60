// The terminal bridge: browser WebSocket ⇄ Kubernetes exec into the toolbox's tmux session, with flow control.
import { PassThrough, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { Kube } from '../cluster/kube.ts';
import { TOOLBOX_CONTAINER, TOOLBOX_POD } from '../cluster/labels.ts';
import { type TerminalServerFrame, terminalControl } from '../protocol/schemas.ts';
import { TMUX_SESSION } from '../sandboxes/sandboxes.ts';

/** Above this many bytes queued for the browser, reading from the exec stream pauses; below LOW it resumes. */
export const HIGH_WATER = 1 << 20;
export const LOW_WATER = 256 << 10;
const HEARTBEAT_MS = 20_000;

/** stdout for client-node's exec: forwards bytes, and carries the terminal size its resize queue reads. */
class TerminalOutput extends Writable {
  columns: number;
  rows: number;
  readonly #forward: (chunk: Buffer) => void;
  constructor(size: { cols: number; rows: number }, forward: (chunk: Buffer) => void) {
    super();
    this.#forward = forward;
    this.columns = size.cols;
    this.rows = size.rows;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#forward(chunk);
    done();
  }
  resize(cols: number, rows: number): void {
    if (cols === this.columns && rows === this.rows) return;
    this.columns = cols;
    this.rows = rows;
    this.emit('resize');
  }
}

export interface BridgeOptions {
  kube: Kube;
  namespace: string;
  sandboxId: string;
  size: { cols: number; rows: number };
  log: Logger;
  onOpen?: () => void;
  onClose?: () => void;
}

function sendJson(ws: WebSocket, frame: TerminalServerFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

/** Attaches a connected browser socket to the sandbox's terminal until either side goes away. */
export async function bridgeTerminal(browser: WebSocket, options: BridgeOptions): Promise<void> {
  const { kube, namespace, log } = options;
  let upstream: WebSocket | undefined;
  let closed = false;
  const stdin = new PassThrough();

  const maybeResume = () => {
    if (upstream?.isPaused && browser.bufferedAmount < LOW_WATER) upstream.resume();
  };
  const output = new TerminalOutput(options.size, (chunk) => {
    if (browser.readyState !== browser.OPEN) return;
    browser.send(chunk, { binary: true }, maybeResume);
    // Pausing the exec socket stops reading from the API server, so TCP pushes back all the way to tmux.
    if (browser.bufferedAmount > HIGH_WATER && upstream && !upstream.isPaused) upstream.pause();
  });

  const shutdown = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    stdin.end();
    upstream?.close();
    if (browser.readyState === browser.OPEN) {
      sendJson(browser, { type: 'closing', reason });
      browser.close(code, reason.slice(0, 120));
    }
    options.onClose?.();
  };

  let alive = true;
  browser.on('pong', () => {
    alive = true;
  });
  const heartbeat = setInterval(() => {
    if (!alive) return void browser.terminate();
    alive = false;
    browser.ping();
  }, HEARTBEAT_MS);
  heartbeat.unref();

  browser.on('message', (data, isBinary) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      stdin.write(bytes);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return void log.debug({ sandbox: options.sandboxId }, 'ignored a terminal text frame that is not JSON');
    }
    const control = terminalControl.safeParse(parsed);
    if (!control.success) return void log.debug({ sandbox: options.sandboxId }, 'ignored an unknown control frame');
    if (control.data.type === 'resize') output.resize(control.data.cols, control.data.rows);
    // A client that floods pings and never reads would otherwise queue every pong in server memory.
    else if (browser.bufferedAmount < HIGH_WATER)
      sendJson(browser, { type: 'pong', ...(control.data.t !== undefined ? { t: control.data.t } : {}) });
  });
  browser.on('close', () => shutdown(1000, 'browser closed'));
  browser.on('error', (error) => log.debug({ err: error }, 'browser socket error'));

  try {
    // `new-session -A` attaches to the session when it exists, so a reconnect finds the same screen.
    upstream = (await kube.exec.exec(
      namespace,
      TOOLBOX_POD,
      TOOLBOX_CONTAINER,
      ['tmux', 'new-session', '-A', '-s', TMUX_SESSION],
      output,
      null,
      stdin,
      true,
      () => shutdown(1000, 'the shell exited'),
    )) as unknown as WebSocket;
  } catch (error) {
    log.warn({ err: error, sandbox: options.sandboxId }, 'terminal exec failed');
    shutdown(1011, 'the terminal could not start; the sandbox may be restarting');
    return;
  }
  if (closed) {
    upstream.close();
    return;
  }
  upstream.on('close', () => shutdown(1011, 'the connection to the cluster was lost'));
  upstream.on('error', (error) => log.debug({ err: error }, 'exec socket error'));
  options.onOpen?.();
  sendJson(browser, { type: 'ready', sandbox: options.sandboxId });
}
