// Two ways into the same toolbox tmux session — through our bridge (a browser-like WebSocket client) and straight to
// the API server (client-node Exec, the library the bridge itself uses) — behind one small interface.
import { PassThrough, Writable } from 'node:stream';
import WebSocket from 'ws';
import { execCollect } from '../../src/cluster/exec.ts';
import type { Kube } from '../../src/cluster/kube.ts';
import { TOOLBOX_CONTAINER, TOOLBOX_POD } from '../../src/cluster/labels.ts';
import { TMUX_SESSION } from '../../src/sandboxes/sandboxes.ts';
import { BENCH_ORIGIN } from './server.ts';

/** The same size for both paths: tmux sizes a session by its smallest client, and redraw cost follows the size. */
export const TERMINAL_SIZE = { cols: 100, rows: 30 };

/** A byte stream to and from a tmux client in the toolbox. */
export interface Terminal {
  readonly kind: 'bridge' | 'direct';
  /** Bytes received so far. */
  received: number;
  send(bytes: string | Buffer): void;
  /** Adds a listener for output; returns a function that removes it. */
  onData(listener: (chunk: Buffer, at: number) => void): () => void;
  /** Settles when the connection has closed, from either end. */
  closed: Promise<void>;
  /** Why it closed, as far as this end knows (the server's "closing" frame, the close code). */
  closeReason: string;
  close(): Promise<void>;
}

class Listeners {
  #set = new Set<(chunk: Buffer, at: number) => void>();
  add(listener: (chunk: Buffer, at: number) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }
  emit(chunk: Buffer): void {
    // The arrival time is taken once, before any listener runs, so listeners do not skew each other's timings.
    const at = performance.now();
    for (const listener of this.#set) listener(chunk, at);
  }
}

/** A learner's terminal WebSocket through the sandbox server, resolved once the server says "ready". */
export async function openBridge(baseUrl: string, cookie: string, sandboxId: string): Promise<Terminal> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/api/sandboxes/${sandboxId}/terminal?cols=${TERMINAL_SIZE.cols}&rows=${TERMINAL_SIZE.rows}`;
  const ws = new WebSocket(url, { headers: { cookie, origin: BENCH_ORIGIN }, perMessageDeflate: false });
  const listeners = new Listeners();
  const terminal: Terminal = {
    kind: 'bridge',
    received: 0,
    closeReason: '',
    send: (bytes) => ws.send(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, { binary: true }),
    onData: (listener) => listeners.add(listener),
    closed: new Promise<void>((resolve) =>
      ws.once('close', (code, reason) => {
        terminal.closeReason = `${terminal.closeReason} (close ${code} ${reason.toString()})`.trim();
        resolve();
      }),
    ),
    close: () => {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      return terminal.closed;
    },
  };
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        terminal.received += data.length;
        listeners.emit(data);
        return;
      }
      const frame = JSON.parse(data.toString()) as { type?: string; reason?: string };
      if (frame.type === 'ready') resolve();
      else if (frame.type === 'closing') terminal.closeReason = `the server said: ${frame.reason}`;
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`terminal upgrade refused: ${res.statusCode}`)));
    // Kept for the socket's life: an 'error' with no listener would throw out of the event loop.
    ws.on('error', (error) => {
      terminal.closeReason = `${terminal.closeReason} ${error.message}`.trim();
      reject(error);
    });
    ws.once('close', (code, reason) => reject(new Error(`terminal closed before ready: ${code} ${reason}`)));
  });
  return terminal;
}

/** stdout for the exec stream that carries a terminal size, as the bridge's does, so both run at the same size. */
class SizedOutput extends Writable {
  columns = TERMINAL_SIZE.cols;
  rows = TERMINAL_SIZE.rows;
  readonly #forward: (chunk: Buffer) => void;
  constructor(forward: (chunk: Buffer) => void) {
    super();
    this.#forward = forward;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#forward(chunk);
    done();
  }
}

/** The baseline: the same `tmux new-session -A` the bridge runs, exec'd from this process straight to the API server. */
export async function openDirect(kube: Kube, namespace: string): Promise<Terminal> {
  const listeners = new Listeners();
  const stdin = new PassThrough();
  const terminal: Terminal = {
    kind: 'direct',
    received: 0,
    closeReason: '',
    send: (bytes) => stdin.write(bytes),
    onData: (listener) => listeners.add(listener),
    closed: Promise.resolve(),
    close: async () => undefined,
  };
  const output = new SizedOutput((chunk) => {
    terminal.received += chunk.length;
    listeners.emit(chunk);
  });
  const ws = await kube.exec.exec(
    namespace,
    TOOLBOX_POD,
    TOOLBOX_CONTAINER,
    ['tmux', 'new-session', '-A', '-s', TMUX_SESSION],
    output,
    null,
    stdin,
    true,
  );
  ws.on('error', (error) => {
    terminal.closeReason = `${terminal.closeReason} ${error.message}`.trim();
  });
  terminal.closed = new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', (code, reason) => {
      terminal.closeReason = `${terminal.closeReason} (close ${code} ${reason.toString()})`.trim();
      resolve();
    });
  });
  terminal.close = () => {
    stdin.end();
    if (ws.readyState !== WebSocket.CLOSED) ws.close();
    return terminal.closed;
  };
  return terminal;
}

/**
 * Detaches every tmux client from the session. A closed exec connection does not end the process it ran, so each
 * `tmux new-session -A` whose connection is gone stays attached, unread: tmux keeps redrawing for it and buffers its
 * output without bound. Done before each attach, so every measurement sees exactly one client, as a first visit would.
 */
export async function detachStale(kube: Kube, namespace: string): Promise<void> {
  // Exit status 1 ("no clients") is fine; only a failing exec is an error.
  await execCollect(kube, namespace, TOOLBOX_POD, TOOLBOX_CONTAINER, ['tmux', 'detach-client', '-s', TMUX_SESSION]);
}

/** How many tmux clients are attached to the learner's session right now. */
export async function attachedClients(kube: Kube, namespace: string): Promise<number> {
  const result = await execCollect(kube, namespace, TOOLBOX_POD, TOOLBOX_CONTAINER, [
    'sh',
    '-c',
    `tmux list-clients -t ${TMUX_SESSION} | wc -l`,
  ]);
  return Number(result.stdout.trim());
}

/**
 * Resolves with the arrival time of the first output (from now on) in which `text` appears; the search runs over a
 * rolling window so a marker split across chunks is still found. Rejects after `timeoutMs`.
 */
export function waitForText(terminal: Terminal, text: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let tail = '';
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the ${terminal.kind} terminal never showed "${text}"; last output: ${JSON.stringify(tail)}`));
    }, timeoutMs);
    const off = terminal.onData((chunk, at) => {
      // latin1 maps bytes to characters one to one, so a multi-byte character split across chunks cannot garble it.
      tail = (tail + chunk.toString('latin1')).slice(-(text.length + 4096));
      if (!tail.includes(text)) return;
      clearTimeout(timer);
      off();
      resolve(at);
    });
  });
}

/** Resolves once the terminal has been silent for `quietMs` (or after `maxMs`), e.g. after tmux's attach redraw. */
export function waitForQuiet(terminal: Terminal, quietMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    let timer = setTimeout(done, quietMs);
    const cap = setTimeout(done, maxMs);
    const off = terminal.onData(() => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    function done() {
      clearTimeout(timer);
      clearTimeout(cap);
      off();
      resolve();
    }
  });
}

/** A command whose output differs from its typed echo, so seeing the output proves the shell ran it. */
export function shellProbe(): { command: string; answer: string } {
  const nonce = Math.random().toString(36).slice(2, 10);
  return { command: `echo P$((6*7))-${nonce}\r`, answer: `P42-${nonce}` };
}

/** How a probe fared: when its answer arrived, and how many times it had to be typed. */
export interface ShellAnswer {
  at: number;
  attempts: number;
}

/**
 * Types a probe and resolves with the arrival time of its answer: "the shell answers". While bash is still reading its
 * startup files, typed-ahead input can lose its first character ("-bash: cho: command not found"), so a probe that
 * gets no answer within `retryMs` is typed again on a fresh line (Ctrl-U), as a person would; `attempts` says so.
 */
export async function shellAnswers(terminal: Terminal, timeoutMs = 30_000, retryMs = 1000): Promise<ShellAnswer> {
  const probe = shellProbe();
  const answered = waitForText(terminal, probe.answer, timeoutMs);
  let attempts = 1;
  terminal.send(probe.command);
  const retry = setInterval(() => {
    attempts++;
    terminal.send(`\x15${probe.command}`);
  }, retryMs);
  try {
    return { at: await answered, attempts };
  } finally {
    clearInterval(retry);
  }
}

/**
 * One keystroke round trip: sends `ch` and resolves with the milliseconds until output containing it arrives. The
 * caller picks characters that cannot already be on their way (see `typingKeys`).
 */
export function echoRoundTrip(terminal: Terminal, ch: string, timeoutMs = 5000): Promise<number> {
  const sent = { at: 0 };
  const arrived = waitForText(terminal, ch, timeoutMs);
  sent.at = performance.now();
  terminal.send(ch);
  return arrived.then((at) => at - sent.at);
}

/**
 * Keys typed into `cat` (which runs in cooked mode, so the tty echoes each one): 20 distinct letters, then Enter, so
 * a letter never repeats within a line and a redraw of the line cannot be mistaken for the echo of the next key.
 */
export const LINE_KEYS = 'abcdefghijklmnopqrst';

/** Puts the tmux session into `cat`, with a fresh line; `cat` keeps running between attaches. */
export async function startCat(terminal: Terminal, timeoutMs = 30_000): Promise<void> {
  terminal.send('\x03');
  await waitForQuiet(terminal, 150, 2000);
  // The probe first proves the shell answers, so `cat` starts at a prompt and not inside a half-typed line.
  await shellAnswers(terminal, timeoutMs, 2000);
  await waitForQuiet(terminal, 200, 3000);
  terminal.send('cat\r');
  await waitForQuiet(terminal, 200, 3000);
}

/** Ends the line `cat` is reading (not timed) and waits until cat's copy of it has been printed. */
export async function newLine(terminal: Terminal): Promise<void> {
  terminal.send('\r');
  await waitForQuiet(terminal, 40, 2000);
}
