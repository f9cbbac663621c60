// Exec into a container over the API server's WebSocket channel protocol (v5.channel.k8s.io, else v4).
import type { Readable, Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { connectionFor, forgetCachedCredentials } from './credentials.ts';
import type { KubeConfig } from './kubeconfig-file.ts';
import { withQuery } from './rest.ts';

/** Bound on the exec WebSocket's upgrade (connect, TLS and the API server's answer). */
export const EXEC_HANDSHAKE_TIMEOUT_MS = 15_000;

/** Subprotocols offered, best first: v5 adds a frame that closes stdin. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** The first byte of every message says which stream it belongs to. */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/** One message: the channel byte, then the payload. */
export function encodeFrame(channel: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from([channel]), bytes]);
}

/** Splits a received message into channel and payload; undefined for an empty one. */
export function decodeFrame(data: WebSocket.RawData | string): { channel: number; payload: Buffer } | undefined {
  const bytes =
    typeof data === 'string'
      ? Buffer.from(data, 'utf8')
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
  if (bytes.length === 0) return undefined;
  return { channel: bytes[0]!, payload: bytes.subarray(1) };
}

/** A terminal size change, as the API server reads it from the resize channel. */
export const resizeFrame = (cols: number, rows: number) =>
  encodeFrame(CHANNEL.resize, JSON.stringify({ Width: cols, Height: rows }));

/** v5 only: tells the container that stdin has ended. */
export const closeStdinFrame = () => Buffer.from([CHANNEL.close, CHANNEL.stdin]);

/** Above this many bytes of input not yet taken by the API server, reading stdin pauses; below LOW it resumes. */
export const STDIN_HIGH_WATER = 256 << 10;
export const STDIN_LOW_WATER = 64 << 10;

/** The status frame's JSON (a V1Status); text that is not JSON becomes a Failure carrying it. */
export function parseStatus(payload: Buffer): V1Status {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text) as V1Status;
  } catch {
    return { status: 'Failure', message: text };
  }
}

/** The exec URL path with its query: one `command` per argument, and which streams to open. */
export function execPath(
  namespace: string,
  pod: string,
  container: string,
  command: readonly string[],
  streams: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
): string {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec`;
  return withQuery(path, { command, container, ...streams });
}

/** A stdout that knows the terminal's size (as a TTY stream does), and emits 'resize' when it changes. */
interface SizedStream {
  columns?: unknown;
  rows?: unknown;
}

const sizeOf = (stream: SizedStream) =>
  typeof stream.columns === 'number' && typeof stream.rows === 'number'
    ? { cols: stream.columns, rows: stream.rows }
    : undefined;

/** Runs commands in containers; each call is one WebSocket. */
export class Exec {
  readonly kc: KubeConfig;
  readonly #handshakeTimeoutMs: number;
  constructor(kc: KubeConfig, options: { handshakeTimeoutMs?: number } = {}) {
    this.kc = kc;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? EXEC_HANDSHAKE_TIMEOUT_MS;
  }

  /**
   * Starts `command` in `namespace/pod/container` and resolves with the open WebSocket (pause/resume it for flow
   * control; it closes when the command ends). Output goes to `stdout`/`stderr` (null: not requested), `stdin` is
   * forwarded until it ends, and `onStatus` gets the final status (exit code in details.causes). With `tty`, a
   * `stdout` that has `columns`/`rows` sets the terminal size, and its 'resize' events change it.
   */
  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: string | readonly string[],
    stdout: Writable | null,
    stderr: Writable | null,
    stdin: Readable | null,
    tty: boolean,
    onStatus?: (status: V1Status) => void,
  ): Promise<WebSocket> {
    const argv = typeof command === 'string' ? [command] : command;
    const path = execPath(namespace, pod, container, argv, {
      stdin: stdin !== null,
      stdout: stdout !== null,
      stderr: stderr !== null,
      tty,
    });
    const onMessage = (data: WebSocket.RawData) => {
      const frame = decodeFrame(data);
      if (!frame) return;
      if (frame.channel === CHANNEL.stdout) stdout?.write(frame.payload);
      else if (frame.channel === CHANNEL.stderr) stderr?.write(frame.payload);
      else if (frame.channel === CHANNEL.status) onStatus?.(parseStatus(frame.payload));
    };
    let ws: WebSocket;
    try {
      ws = await this.#open(path, onMessage);
    } catch (error) {
      // A rotated token file or a revoked plugin credential: read it afresh and try once more, as REST calls do.
      if (!/Unexpected server response: 401/.test(String(error)) || !(await connectionFor(this.kc)).renewable) {
        throw error;
      }
      forgetCachedCredentials();
      ws = await this.#open(path, onMessage);
    }
    if (stdin) this.#forwardStdin(ws, stdin);
    const sized = stdout as (Writable & SizedStream) | null;
    if (tty && sized && sizeOf(sized)) this.#forwardResizes(ws, sized);
    return ws;
  }

  /** Opens the exec WebSocket as the current user and resolves once the API server has upgraded it. */
  async #open(path: string, onMessage: (data: WebSocket.RawData) => void): Promise<WebSocket> {
    const connection = await connectionFor(this.kc);
    const ws = new WebSocket(connection.server.replace(/^http/, 'ws') + path, [...EXEC_PROTOCOLS], {
      headers: connection.headers as Record<string, string>,
      ...connection.tls,
      perMessageDeflate: false,
      // A stalled API server must not hang an attach: the upgrade fails after this long and the caller retries.
      handshakeTimeout: this.#handshakeTimeoutMs,
    });
    ws.on('message', onMessage);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      // Stays attached: a later error is also reported as 'close', and an unheard 'error' would crash the process.
      ws.on('error', reject);
    });
    return ws;
  }

  #forwardStdin(ws: WebSocket, stdin: Readable): void {
    const resume = () => {
      if (stdin.isPaused() && ws.bufferedAmount < STDIN_LOW_WATER) stdin.resume();
    };
    const onData = (chunk: Buffer | string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(encodeFrame(CHANNEL.stdin, chunk), resume);
      // Input arriving faster than the API server takes it then waits in `stdin`, so its writer feels the pressure.
      if (ws.bufferedAmount > STDIN_HIGH_WATER) stdin.pause();
    };
    const onEnd = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // v4 cannot say "end of input" but by closing the whole connection.
      if (ws.protocol === EXEC_PROTOCOLS[0]) ws.send(closeStdinFrame());
      else ws.close();
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    ws.once('close', () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
    });
  }

  #forwardResizes(ws: WebSocket, stdout: Writable & SizedStream): void {
    const send = () => {
      const size = sizeOf(stdout);
      if (size && ws.readyState === WebSocket.OPEN) ws.send(resizeFrame(size.cols, size.rows));
    };
    send();
    stdout.on('resize', send);
    ws.once('close', () => stdout.off('resize', send));
  }
}
