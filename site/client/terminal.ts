// The terminal island: xterm.js attached to the sandbox's tmux session over a WebSocket. The only module that
// imports @xterm/*; the panel loads it with import() when the learner opens the terminal, so it is its own chunk.
import '@xterm/xterm/css/xterm.css';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { type ITheme, Terminal } from '@xterm/xterm';
import type { TerminalControl, TerminalServerFrame } from '../../sandbox-server/src/protocol/schemas.ts';
import { backoffDelay } from './backoff.ts';
import { clipboardKey } from './terminal-clipboard.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** What the server says about the sandbox before a reconnect: go on, give up, or try again later. */
export type SandboxCheck = 'ready' | 'gone' | 'unknown';

export interface TerminalOptions {
  sandboxId: string;
  /** Which terminal tab (its own tmux session in the toolbox); the first when not given. */
  tab?: number;
  screenReaderMode: boolean;
  onState(state: ConnectionState, detail?: string): void;
  /** Asked before every reconnect, so a terminal whose sandbox has ended stops trying. */
  checkSandbox(): Promise<SandboxCheck>;
  /** The learner pressed F6 to leave the terminal (Tab belongs to the shell, so it cannot move focus out). */
  onLeave(): void;
  /** The shell exited (the learner typed `exit`); without it the terminal just says so and offers a reconnect. */
  onExit?(): void;
}

/** The few things the page does with a terminal. */
export interface TerminalHandle {
  /** Sends text as if typed; false when not connected (the caller queues it). */
  type(text: string): boolean;
  focus(): void;
  setScreenReaderMode(on: boolean): void;
  /** Reconnects now (after a closed state, or when the learner asks). */
  reconnect(sandboxId?: string): void;
  dispose(): void;
}

const PING_EVERY_MS = 20_000;
/** No frame at all for this long means a half-open connection: drop it and reconnect. */
const SILENCE_LIMIT_MS = 50_000;

/** xterm colours from the page's CSS variables, so the terminal follows the light/dark theme. */
function themeFromCss(): ITheme {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim() || undefined;
  return {
    background: v('--term-bg'),
    foreground: v('--term-fg'),
    cursor: v('--term-cursor'),
    cursorAccent: v('--term-bg'),
    selectionBackground: v('--term-selection'),
  };
}

export function mountTerminal(host: HTMLElement, options: TerminalOptions): TerminalHandle {
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    scrollback: 5000,
    screenReaderMode: options.screenReaderMode,
    theme: themeFromCss(),
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.loadAddon(new WebLinksAddon());
  term.open(host);
  fit.fit();

  const encoder = new TextEncoder();
  let sandboxId = options.sandboxId;
  let ws: WebSocket | undefined;
  let attempt = 0;
  let disposed = false;
  let closedByServerReason: string | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let lastFrameAt = Date.now();

  const sendControl = (frame: TerminalControl) => {
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  function url(): string {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = `cols=${term.cols}&rows=${term.rows}${options.tab && options.tab > 1 ? `&tab=${options.tab}` : ''}`;
    return `${scheme}//${location.host}/api/sandboxes/${encodeURIComponent(sandboxId)}/terminal?${query}`;
  }

  function stopTimers(): void {
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    retryTimer = undefined;
    pingTimer = undefined;
  }

  function connect(): void {
    stopTimers();
    options.onState(attempt === 0 ? 'connecting' : 'reconnecting');
    closedByServerReason = undefined;
    const socket = new WebSocket(url());
    socket.binaryType = 'arraybuffer';
    ws = socket;
    socket.addEventListener('open', () => {
      lastFrameAt = Date.now();
      // The server attaches at the size in the URL; a fit since then (panel resized) is sent now.
      sendControl({ type: 'resize', cols: term.cols, rows: term.rows });
      pingTimer = setInterval(() => {
        if (Date.now() - lastFrameAt > SILENCE_LIMIT_MS) return socket.close(4000, 'no answer from the server');
        sendControl({ type: 'ping', t: Date.now() });
      }, PING_EVERY_MS);
    });
    socket.addEventListener('message', (event: MessageEvent<ArrayBuffer | string>) => {
      lastFrameAt = Date.now();
      if (typeof event.data !== 'string') {
        // tmux redraws the whole screen on attach, so output is written as it comes and never replayed.
        term.write(new Uint8Array(event.data));
        return;
      }
      let frame: TerminalServerFrame;
      try {
        frame = JSON.parse(event.data) as TerminalServerFrame;
      } catch (error) {
        console.warn('sidecar-lab: ignored a terminal control frame that is not JSON', error);
        return;
      }
      if (frame.type === 'ready') {
        attempt = 0;
        options.onState('connected');
      } else if (frame.type === 'closing') {
        closedByServerReason = frame.reason;
      }
    });
    socket.addEventListener('close', () => {
      if (ws !== socket) return;
      stopTimers();
      ws = undefined;
      if (disposed) return;
      // Typing `exit` ends the shell: reconnecting by itself would look like the exit did not work.
      if (closedByServerReason === 'the shell exited') {
        options.onState('closed', 'The shell exited. Reconnect to get a new one.');
        options.onExit?.();
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect(): void {
    const delay = backoffDelay(attempt++);
    const why = closedByServerReason ? `${closedByServerReason}; ` : '';
    options.onState('reconnecting', `${why}trying again in ${Math.ceil(delay / 1000)} s`);
    retryTimer = setTimeout(async () => {
      // A WebSocket refused at the upgrade says nothing about why, so ask the API first.
      const check = await options.checkSandbox();
      if (disposed) return;
      if (check === 'gone') {
        options.onState('closed', 'Your sandbox has ended.');
        return;
      }
      if (check === 'unknown') return scheduleReconnect();
      connect();
    }, delay);
  }

  term.attachCustomKeyEventHandler((event) => {
    if (event.key === 'F6') {
      if (event.type === 'keydown') {
        event.preventDefault();
        options.onLeave();
      }
      return false;
    }
    return clipboardKey(term, event);
  });

  term.onData((data) => {
    if (ws?.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
  });
  term.onResize(({ cols, rows }) => sendControl({ type: 'resize', cols, rows }));

  // Refit when the panel is resized, collapsed or the window changes; once per frame is plenty.
  let fitFrame = 0;
  const observer = new ResizeObserver(() => {
    cancelAnimationFrame(fitFrame);
    fitFrame = requestAnimationFrame(() => {
      if (host.offsetWidth > 0 && host.offsetHeight > 0) fit.fit();
    });
  });
  observer.observe(host);

  const applyTheme = () => {
    term.options.theme = themeFromCss();
  };
  const themeObserver = new MutationObserver(applyTheme);
  themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  const media = matchMedia('(prefers-color-scheme: dark)');
  media.addEventListener('change', applyTheme);

  connect();

  return {
    type(text) {
      if (ws?.readyState !== WebSocket.OPEN) return false;
      ws.send(encoder.encode(text));
      return true;
    },
    focus: () => term.focus(),
    setScreenReaderMode(on) {
      term.options.screenReaderMode = on;
    },
    reconnect(nextId) {
      if (nextId) sandboxId = nextId;
      attempt = 0;
      const old = ws;
      ws = undefined;
      old?.close(1000, 'reconnecting');
      connect();
    },
    dispose() {
      disposed = true;
      stopTimers();
      ws?.close(1000, 'terminal closed');
      observer.disconnect();
      themeObserver.disconnect();
      media.removeEventListener('change', applyTheme);
      term.dispose();
    },
  };
}
