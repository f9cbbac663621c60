// Terminal tabs: one xterm per tab, each attached to its own tmux session in the same toolbox (the server starts a
// tab's session on its first attach). Loaded with ./terminal.ts when the panel opens. The tabs that exist come from
// the toolbox itself (`GET …/terminals`), so they survive a reload and a server restart as the first terminal does.
import { MAX_TERMINAL_TABS } from '../../sandbox-server/src/protocol/limits.ts';
import { announce } from './announce.ts';
import { call, segment, server } from './api.ts';
import { readItem, writeItem } from './storage.ts';
import { type ConnectionState, mountTerminal, type TerminalHandle, type TerminalOptions } from './terminal.ts';

/** sessionStorage: the tab on screen, so a reload shows the same one. */
const ACTIVE_KEY = 'sidecar-lab:terminal-tab';

export interface TabsElements {
  /** Where each tab's terminal goes. */
  screen: HTMLElement;
  tablist: HTMLElement;
  newTab: HTMLButtonElement;
  closeTab: HTMLButtonElement;
}

interface Tab {
  n: number;
  button: HTMLButtonElement;
  panel: HTMLElement;
  handle: TerminalHandle;
  state: ConnectionState;
  detail?: string;
}

export function mountTerminalTabs(elements: TabsElements, options: TerminalOptions): TerminalHandle {
  const { screen, tablist, newTab, closeTab } = elements;
  const tabs = new Map<number, Tab>();
  let sandboxId = options.sandboxId;
  let active = 1;
  let screenReaderMode = options.screenReaderMode;
  /** The tab on screen before a reload; restored once the list of tabs arrives, unless the learner chose one. */
  const wanted = Number(readItem(ACTIVE_KEY, 'session') ?? '1');
  let chosen = false;
  const terminals = server.api.sandboxes[':id'].terminals;
  const id = segment(sandboxId);

  function sorted(): Tab[] {
    return [...tabs.values()].sort((a, b) => a.n - b.n);
  }

  function refreshControls(): void {
    newTab.disabled = tabs.size >= MAX_TERMINAL_TABS;
    closeTab.hidden = active === 1;
    closeTab.textContent = `Close tab ${active}`;
    tablist.replaceChildren(...sorted().map((t) => t.button));
  }

  function select(n: number, focus: 'tab' | 'terminal' | 'none' = 'none'): void {
    const tab = tabs.get(n);
    if (!tab) return;
    active = n;
    for (const t of tabs.values()) {
      const on = t.n === n;
      t.button.setAttribute('aria-selected', String(on));
      t.button.tabIndex = on ? 0 : -1;
      t.panel.hidden = !on;
    }
    writeItem(ACTIVE_KEY, String(n), 'session');
    refreshControls();
    options.onState(tab.state, tab.detail);
    if (focus !== 'none') chosen = true;
    if (focus === 'tab') tab.button.focus();
    if (focus === 'terminal') tab.handle.focus();
  }

  function add(n: number): Tab {
    const existing = tabs.get(n);
    if (existing) return existing;
    const button = document.createElement('button');
    button.type = 'button';
    button.role = 'tab';
    button.id = `terminal-tab-${n}`;
    button.className = 'terminal-tab';
    button.textContent = `Terminal ${n}`;
    button.setAttribute('aria-controls', `terminal-tabpanel-${n}`);
    button.addEventListener('click', () => select(n, 'terminal'));
    const panel = document.createElement('div');
    panel.id = `terminal-tabpanel-${n}`;
    panel.className = 'terminal-tabpanel';
    panel.role = 'tabpanel';
    panel.setAttribute('aria-labelledby', button.id);
    screen.append(panel);
    const tab: Tab = { n, button, panel, state: 'connecting', handle: undefined as unknown as TerminalHandle };
    tabs.set(n, tab);
    // Shown while it opens, so xterm measures its real size; select() hides it again when it is not the active one.
    for (const t of tabs.values()) t.panel.hidden = t !== tab;
    tab.handle = mountTerminal(panel, {
      ...options,
      sandboxId,
      tab: n,
      screenReaderMode,
      onState(state, detail) {
        tab.state = state;
        tab.detail = detail;
        button.dataset.status = state;
        if (n === active) options.onState(state, detail);
      },
      // `exit` in a further tab closes the tab, as in a desktop terminal; the first one offers a new shell.
      onExit: n === 1 ? undefined : () => remove(n),
    });
    return tab;
  }

  function remove(n: number): void {
    const tab = tabs.get(n);
    if (!tab || n === 1) return;
    tab.handle.dispose();
    tab.panel.remove();
    tabs.delete(n);
    const left = sorted().filter((t) => t.n < n);
    select(left.at(-1)?.n ?? 1, 'terminal');
    announce(`Terminal ${n} closed`);
  }

  tablist.addEventListener('keydown', (event) => {
    const list = sorted();
    const at = list.findIndex((t) => t.n === active);
    const moves: Record<string, number> = {
      ArrowRight: (at + 1) % list.length,
      ArrowLeft: (at - 1 + list.length) % list.length,
      Home: 0,
      End: list.length - 1,
    };
    const to = moves[event.key];
    if (to === undefined) return;
    event.preventDefault();
    select(list[to]!.n, 'tab');
  });

  const onNew = () => {
    let n = 1;
    while (tabs.has(n)) n++;
    if (n > MAX_TERMINAL_TABS) return;
    add(n);
    select(n, 'terminal');
    announce(`Terminal ${n} opened`);
  };
  const onClose = async () => {
    const n = active;
    if (n === 1) return;
    remove(n);
    // The tmux session and whatever runs in it end too; a failure leaves a session that the next "New tab" reuses.
    await call(() => terminals[':tab'].$delete({ param: { id, tab: String(n) } })).catch((error) =>
      console.warn('sidecar-lab: closing a tab failed', error),
    );
  };
  newTab.addEventListener('click', onNew);
  closeTab.addEventListener('click', onClose);

  add(1);
  select(1);
  // Tabs opened earlier (this page before a reload, another browser tab, before a server restart) come back.
  call(() => terminals.$get({ param: { id } }))
    .then(({ tabs: existing }) => {
      for (const n of existing) if (n !== 1) add(n);
      if (!chosen) select(tabs.has(wanted) ? wanted : active);
      else refreshControls();
    })
    .catch((error) => console.warn('sidecar-lab: could not list the terminal tabs', error));

  return {
    type: (text) => tabs.get(active)?.handle.type(text) ?? false,
    focus: () => tabs.get(active)?.handle.focus(),
    setScreenReaderMode(on) {
      screenReaderMode = on;
      for (const t of tabs.values()) t.handle.setScreenReaderMode(on);
    },
    reconnect(nextId) {
      if (nextId) sandboxId = nextId;
      for (const t of tabs.values()) t.handle.reconnect(nextId);
    },
    dispose() {
      newTab.removeEventListener('click', onNew);
      closeTab.removeEventListener('click', onClose);
      for (const t of tabs.values()) t.handle.dispose();
      tabs.clear();
      tablist.replaceChildren();
      screen.replaceChildren();
    },
  };
}
