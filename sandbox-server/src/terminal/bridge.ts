// The terminal bridge: browser WebSocket ⇄ Kubernetes exec into the toolbox's tmux session, with flow control.
import { PassThrough, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { execCollect } from '../cluster/exec.ts';
import { isUnavailable, type Kube } from '../cluster/kube.ts';
import { TOOLBOX_CONTAINER, TOOLBOX_POD } from '../cluster/labels.ts';
import { type TerminalServerFrame, terminalControl } from '../protocol/schemas.ts';
import { attachCommand, detachCommand, hasSessionCommand, LiveClients, newConnectionId } from './tmux-clients.ts';

/** Above this many bytes queued for the browser, reading from the exec stream pauses; below LOW it resumes. */
export const HIGH_WATER = 1 << 20;
export const LOW_WATER = 256 << 10;
const HEARTBEAT_MS = 20_000;
/**
 * A quiet terminal (tmux has no status bar) sends nothing, and the kubelet closes exec streams idle for
 * streamingConnectionIdleTimeout (5 minutes on the local cluster). Re-sending the current size is a frame the kubelet
 * sees, and changes nothing: the kernel only signals a resize when the size differs.
 */
export const EXEC_KEEPALIVE_MS = 60_000;
/** The exec protocol's resize channel (v4/v5.channel.k8s.io). */
const RESIZE_CHANNEL = 4;

/** Open terminal connections of this process, per sandbox. */
export const liveClients = new LiveClients();

/** stdout for the exec stream: forwards bytes, and carries the terminal size it sends on the resize channel. */
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
  /** The tmux session this terminal shows (one per tab); the sandbox's first when not given. */
  session?: string;
  log: Logger;
  onOpen?: () => void;
  onClose?: () => void;
  /** The learner typed (a binary frame came in); output, resizes and pings are not input. */
  onInput?: () => void;
}

function sendJson(ws: WebSocket, frame: TerminalServerFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

/** Attaches a connected browser socket to the sandbox's terminal until either side goes away. */
export async function bridgeTerminal(browser: WebSocket, options: BridgeOptions): Promise<void> {
  const { kube, namespace, log } = options;
  const sandbox = options.sandboxId;
  let upstream: WebSocket | undefined;
  let stdin = new PassThrough();
  let closed = false;
  const reattachedAt: number[] = [];

  const maybeResume = () => {
    if (upstream?.isPaused && browser.bufferedAmount < LOW_WATER) upstream.resume();
  };
  const output = new TerminalOutput(options.size, (chunk) => {
    if (browser.readyState !== browser.OPEN) return;
    browser.send(chunk, { binary: true }, maybeResume);
    // Pausing the exec socket stops reading from the API server, so TCP pushes back all the way to tmux.
    if (browser.bufferedAmount > HIGH_WATER && upstream && !upstream.isPaused) upstream.pause();
  });

  // Closing the stream leaves the tmux client running in the toolbox; end it so clients do not pile up.
  const detachClient = (connection: string) => {
    liveClients.remove(sandbox, connection);
    execCollect(kube, namespace, TOOLBOX_POD, TOOLBOX_CONTAINER, detachCommand(connection)).catch((error) =>
      log.debug({ err: error, sandbox }, 'could not detach a closed terminal client'),
    );
  };

  const shutdown = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearInterval(keepalive);
    stdin.end();
    upstream?.close();
    if (browser.readyState === browser.OPEN) {
      sendJson(browser, { type: 'closing', reason });
      browser.close(code, reason.slice(0, 120));
    }
    options.onClose?.();
  };

  /**
   * The exec stream ended while the browser is still here. If the shell is gone (the learner typed `exit`), say so.
   * Otherwise the stream was cut under a live session (an idle timeout, a kubelet restart): attach again at once, on
   * the same browser socket, so the learner sees at most a redraw. A stream that keeps ending is given up on.
   */
  const upstreamEnded = async (why: string) => {
    if (closed) return;
    if (browser.readyState !== browser.OPEN) return shutdown(1000, 'browser closed');
    const now = Date.now();
    while (reattachedAt.length && now - reattachedAt[0]! > 60_000) reattachedAt.shift();
    const session = await execCollect(
      kube,
      namespace,
      TOOLBOX_POD,
      TOOLBOX_CONTAINER,
      hasSessionCommand(options.session),
    ).catch(() => undefined);
    if (closed) return;
    if (session?.exitCode === 1) return shutdown(1000, 'the shell exited');
    if (!session || reattachedAt.length >= 3) return shutdown(1011, why);
    reattachedAt.push(now);
    log.info({ sandbox, why }, 'terminal stream ended under a live session; attaching again');
    await attach();
  };

  /** Starts one tmux client over exec and makes it the terminal's upstream. */
  const attach = async (): Promise<boolean> => {
    const connection = newConnectionId();
    const live = liveClients.add(sandbox, connection);
    const input = new PassThrough();
    stdin = input;
    if (browser.isPaused) browser.resume(); // it waited for the previous stream's stdin, which will never drain now
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      input.end();
      detachClient(connection);
      void upstreamEnded(why);
    };
    let socket: WebSocket;
    try {
      socket = await kube.exec.exec(
        namespace,
        TOOLBOX_POD,
        TOOLBOX_CONTAINER,
        attachCommand(connection, live, options.session),
        output,
        null,
        input,
        true,
        () => end('the exec stream ended'),
      );
    } catch (error) {
      liveClients.remove(sandbox, connection);
      log.warn({ err: error, sandbox }, 'terminal exec failed');
      // The page shows the reason and reconnects with back-off; say whose side the trouble is on.
      shutdown(
        1011,
        isUnavailable(error)
          ? 'the cluster is not answering'
          : 'the terminal could not start; the sandbox may be restarting',
      );
      return false;
    }
    if (closed) {
      ended = true;
      socket.close();
      detachClient(connection);
      return false;
    }
    upstream = socket;
    socket.on('close', () => end('the connection to the cluster was lost'));
    socket.on('error', (error) => log.debug({ err: error }, 'exec socket error'));
    return true;
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
  const keepalive = setInterval(() => {
    if (!upstream || upstream.readyState !== upstream.OPEN) return;
    const size = JSON.stringify({ Width: output.columns, Height: output.rows });
    upstream.send(Buffer.concat([Buffer.from([RESIZE_CHANNEL]), Buffer.from(size)]));
  }, EXEC_KEEPALIVE_MS);
  keepalive.unref();

  browser.on('message', (data, isBinary) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      options.onInput?.();
      // A paste or a flood faster than the exec stream takes it: stop reading the browser socket until it drains,
      // so TCP pushes back to the sender instead of the server buffering it.
      if (!stdin.write(bytes) && !browser.isPaused) {
        browser.pause();
        stdin.once('drain', () => browser.resume());
      }
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return void log.debug({ sandbox }, 'ignored a terminal text frame that is not JSON');
    }
    const control = terminalControl.safeParse(parsed);
    if (!control.success) return void log.debug({ sandbox }, 'ignored an unknown control frame');
    if (control.data.type === 'resize') output.resize(control.data.cols, control.data.rows);
    // A client that floods pings and never reads would otherwise queue every pong in server memory.
    else if (browser.bufferedAmount < HIGH_WATER)
      sendJson(browser, { type: 'pong', ...(control.data.t !== undefined ? { t: control.data.t } : {}) });
  });
  browser.on('close', () => shutdown(1000, 'browser closed'));
  browser.on('error', (error) => log.debug({ err: error }, 'browser socket error'));

  // `new-session -A` attaches to the session when it exists, so a reconnect finds the same screen; clients of
  // connections this process does not hold (left by a restart) are ended first.
  if (!(await attach())) return;
  options.onOpen?.();
  sendJson(browser, { type: 'ready', sandbox });
}
