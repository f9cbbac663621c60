// The terminal panel: open/collapse/resize, starting the sandbox, connection status, and the commands queued for the
// terminal. Light on purpose: xterm.js and the WebSocket live in ./terminal.ts, imported only when the panel opens.

import { announce } from './announce.ts';
import { describeError } from './api.ts';
import { on } from './bus.ts';
import { initExpiry } from './expiry.ts';
import { confirmSandbox, endSandbox, ensureSandbox, rememberedSandboxId, type SandboxState } from './sandbox.ts';
import { readItem, writeItem } from './storage.ts';
import type { ConnectionState, TerminalHandle } from './terminal.ts';

/** sessionStorage: the terminal was open in this tab, so a reload or the next lesson reattaches it at once. */
const ATTACHED_KEY = 'sidecar-lab:terminal-attached';
/** localStorage: "open" or "collapsed"; read before paint by the inline script in BaseLayout. */
const LAYOUT_KEY = 'sidecar-lab:terminal';
const SCREEN_READER_KEY = 'sidecar-lab:screen-reader';
/** At or above this width the terminal sits beside the text; below it, under the text (matches global.css). */
const BESIDE = matchMedia('(min-width: 60rem)');

const STATUS_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Closed',
};

const panel = document.getElementById('terminal-panel');
if (panel) initPanel(panel);

function initPanel(panel: HTMLElement): void {
  const root = document.documentElement;
  const $ = <T extends HTMLElement>(selector: string) => panel.querySelector<T>(selector)!;
  const statusText = $('[data-status-text]');
  const message = $('[data-terminal-message]');
  const screen = $('[data-terminal-screen]');
  const startButton = $<HTMLButtonElement>('[data-terminal-start]');
  const toggle = $<HTMLButtonElement>('[data-terminal-toggle]');
  const endButton = $<HTMLButtonElement>('[data-terminal-end]');
  const readerButton = $<HTMLButtonElement>('[data-terminal-reader]');
  const reconnectButton = $<HTMLButtonElement>('[data-terminal-reconnect]');
  const tablist = $('[data-terminal-tablist]');
  const newTab = $<HTMLButtonElement>('[data-terminal-new-tab]');
  const closeTab = $<HTMLButtonElement>('[data-terminal-close-tab]');

  let terminal: TerminalHandle | undefined;
  let loading: Promise<TerminalHandle> | undefined;
  let connection: ConnectionState | undefined;
  const queue: string[] = [];

  function setStatus(state: string, text: string, detail = ''): void {
    panel.dataset.status = state;
    statusText.textContent = text;
    message.textContent = detail;
  }

  function expanded(): boolean {
    const saved = root.dataset.terminal;
    return saved ? saved === 'open' : BESIDE.matches;
  }

  function setExpanded(open: boolean): void {
    root.dataset.terminal = open ? 'open' : 'collapsed';
    writeItem(LAYOUT_KEY, root.dataset.terminal);
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? 'Hide' : 'Show terminal';
  }

  async function load(sandboxId: string): Promise<TerminalHandle> {
    setStatus('connecting', 'Loading the terminal…');
    const { mountTerminalTabs } = await import('./terminal-tabs.ts');
    panel.dataset.phase = 'terminal';
    return mountTerminalTabs(
      { screen, tablist, newTab, closeTab },
      {
        sandboxId,
        screenReaderMode: readerButton.getAttribute('aria-pressed') === 'true',
        checkSandbox: confirmSandbox,
        onState: onConnection,
        onLeave: () => document.getElementById('main')?.focus(),
      },
    );
  }

  async function open(focus: boolean): Promise<void> {
    if (!expanded()) setExpanded(true);
    writeItem(ATTACHED_KEY, '1', 'session');
    try {
      const sandbox = await ensureSandbox();
      if (!terminal) {
        loading ??= load(sandbox.id);
        terminal = await loading;
      } else if (connection === 'closed') {
        terminal.reconnect(sandbox.id);
      }
      if (focus) terminal.focus();
    } catch (error) {
      loading = undefined;
      setStatus('failed', 'Not started', describeError(error));
    }
  }

  function onConnection(state: ConnectionState, detail?: string): void {
    connection = state;
    setStatus(state, STATUS_TEXT[state], detail);
    reconnectButton.hidden = state !== 'closed';
    if (state === 'connected') flush();
  }

  /** Types queued commands; Ctrl-E Ctrl-U first clears whatever was half-typed at the prompt. */
  function flush(): void {
    while (queue.length > 0 && terminal?.type(`\x05\x15${queue[0]}\r`)) queue.shift();
  }

  function onSandbox(state: SandboxState): void {
    endButton.hidden = state.phase !== 'ready';
    if (state.phase === 'starting') setStatus('connecting', 'Starting your sandbox…');
    if (state.phase === 'failed') {
      panel.dataset.phase = terminal ? 'terminal' : 'intro';
      startButton.textContent = 'Try again';
      // Commands clicked while it was starting would be typed much later, out of context: drop them.
      queue.length = 0;
      setStatus('failed', 'Not started', state.message);
    }
    if (state.phase === 'ended') {
      terminal?.dispose();
      terminal = undefined;
      loading = undefined;
      connection = undefined;
      queue.length = 0;
      screen.replaceChildren();
      panel.dataset.phase = 'intro';
      startButton.textContent = 'Start a new sandbox';
      writeItem(ATTACHED_KEY, undefined, 'session');
      setStatus('closed', 'No sandbox', state.message);
    }
  }

  on('sidecar-lab:sandbox', onSandbox);
  on('sidecar-lab:open-terminal', ({ focus }) => void open(focus));
  on('sidecar-lab:run', ({ command }) => {
    queue.push(command);
    if (connection === 'connected') flush();
    else void open(false);
  });

  startButton.addEventListener('click', () => void open(true));
  reconnectButton.addEventListener('click', () => void open(true));
  toggle.addEventListener('click', () => {
    setExpanded(!expanded());
    if (expanded()) terminal?.focus();
  });
  endButton.addEventListener('click', async () => {
    if (!window.confirm('End your sandbox? Everything in your namespace is deleted.')) return;
    try {
      await endSandbox();
    } catch (error) {
      setStatus('failed', STATUS_TEXT[connection ?? 'closed'], `Could not end the sandbox: ${describeError(error)}`);
    }
  });
  readerButton.setAttribute('aria-pressed', String(readItem(SCREEN_READER_KEY) === 'on'));
  readerButton.addEventListener('click', () => {
    const on = readerButton.getAttribute('aria-pressed') !== 'true';
    readerButton.setAttribute('aria-pressed', String(on));
    writeItem(SCREEN_READER_KEY, on ? 'on' : 'off');
    terminal?.setScreenReaderMode(on);
    announce(on ? 'Screen reader mode on' : 'Screen reader mode off');
  });

  setExpanded(expanded());
  initExpiry(panel);
  initSplitter(panel.querySelector<HTMLElement>('[data-splitter]')!, () => setExpanded(!expanded()));

  // Reattach straight away when this tab had the terminal open (a reload, or the next lesson).
  if (readItem(ATTACHED_KEY, 'session') === '1' && rememberedSandboxId()) void open(false);
}

/** The drag handle between text and terminal: pointer drag, arrow keys, Home/End, Enter to collapse. */
function initSplitter(handle: HTMLElement, toggleCollapsed: () => void): void {
  const root = document.documentElement;
  const key = () => (BESIDE.matches ? 'sidecar-lab:terminal-width' : 'sidecar-lab:terminal-height');
  const extent = () => (BESIDE.matches ? window.innerWidth : window.innerHeight);
  const limits = (): [number, number] => (BESIDE.matches ? [320, extent() * 0.7] : [160, extent() * 0.8]);
  const current = () => {
    const panel = document.getElementById('terminal-panel')!;
    return BESIDE.matches ? panel.offsetWidth : panel.offsetHeight;
  };

  function apply(px: number, persist: boolean): void {
    const [min, max] = limits();
    const size = Math.round(Math.min(max, Math.max(min, px)));
    root.style.setProperty(BESIDE.matches ? '--terminal-width' : '--terminal-height', `${size}px`);
    describe(size);
    if (persist) writeItem(key(), String(size));
  }

  function describe(size = current()): void {
    const percent = Math.round((size / extent()) * 100);
    handle.setAttribute('aria-orientation', BESIDE.matches ? 'vertical' : 'horizontal');
    handle.setAttribute('aria-valuenow', String(percent));
    handle.setAttribute('aria-valuetext', `Terminal uses ${percent}% of the window`);
  }

  handle.addEventListener('pointerdown', (event) => {
    handle.setPointerCapture(event.pointerId);
    root.dataset.resizing = 'true';
  });
  handle.addEventListener('pointermove', (event) => {
    if (!handle.hasPointerCapture(event.pointerId)) return;
    apply(BESIDE.matches ? window.innerWidth - event.clientX : window.innerHeight - event.clientY, false);
  });
  const finish = (event: PointerEvent) => {
    if (!handle.hasPointerCapture(event.pointerId)) return;
    handle.releasePointerCapture(event.pointerId);
    delete root.dataset.resizing;
    apply(current(), true);
  };
  handle.addEventListener('pointerup', finish);
  handle.addEventListener('pointercancel', finish);

  handle.addEventListener('keydown', (event) => {
    const step = event.shiftKey ? 96 : 24;
    const grow = BESIDE.matches ? 'ArrowLeft' : 'ArrowUp';
    const shrink = BESIDE.matches ? 'ArrowRight' : 'ArrowDown';
    const [min, max] = limits();
    const moves: Record<string, number> = {
      [grow]: current() + step,
      [shrink]: current() - step,
      Home: min,
      End: max,
    };
    if (event.key === 'Enter') {
      event.preventDefault();
      toggleCollapsed();
      return;
    }
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    apply(target, true);
  });
  BESIDE.addEventListener('change', () => describe());
  describe();
}
