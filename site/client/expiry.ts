// The sandbox's time left in the terminal bar, the warning before it stops with a one-click "Extend", and the
// learner's saved work: "Save and stop" while it runs, download or delete once it ended.

import { ApiRequestError, call, describeError, server } from './api.ts';
import { on } from './bus.ts';
import { countdown, extensionMinutes, refreshDelayMs } from './lifetime.ts';
import { extendSandbox, refreshSandbox, type SandboxState, sandboxState, saveAndStop } from './sandbox.ts';

/** Wires the time-left label and the warning inside the terminal panel. */
export function initExpiry(panel: HTMLElement): void {
  const $ = <T extends HTMLElement>(selector: string) => panel.querySelector<T>(selector)!;
  const left = $('[data-terminal-left]');
  const warning = $('[data-terminal-expiry]');
  const warningText = $('[data-expiry-text]');
  const warningLeft = $('[data-expiry-left]');
  const extendButton = $<HTMLButtonElement>('[data-terminal-extend]');
  let ticker: ReturnType<typeof setInterval> | undefined;
  let refresher: ReturnType<typeof setTimeout> | undefined;
  /** Why the last "Extend" failed, in the server's words; shown in the warning until an extension works. */
  let problem = '';

  function render(): void {
    const { phase, sandbox } = sandboxState();
    if (phase !== 'ready' || !sandbox) {
      left.hidden = true;
      warning.hidden = true;
      return;
    }
    const c = countdown(sandbox, Date.now());
    left.hidden = false;
    left.textContent = c.label;
    left.dataset.warn = String(c.warn);
    warningLeft.textContent = `Stops in ${c.label.replace(/ left$/, '')}.`;
    // The alert's words change only when the warning appears or changes kind, so it is announced once.
    const words = c.warn ? problem || c.message : '';
    if (warningText.textContent !== words) warningText.textContent = words;
    warning.hidden = !c.warn;
    extendButton.hidden = !c.canExtend;
    if (c.secondsLeft === 0) void refresh();
  }

  async function refresh(): Promise<void> {
    clearTimeout(refresher);
    refresher = undefined;
    try {
      await refreshSandbox();
    } catch (error) {
      // The server did not answer: the countdown keeps running on what it knew, and the next refresh tries again.
      console.warn('sidecar-lab: could not refresh the sandbox', error);
    }
    schedule();
  }

  function schedule(): void {
    const { phase, sandbox } = sandboxState();
    if (phase !== 'ready' || !sandbox || refresher) return;
    refresher = setTimeout(() => void refresh(), refreshDelayMs(sandbox, Date.now()));
  }

  function onSandbox(state: SandboxState): void {
    const ready = state.phase === 'ready';
    if (ready && !ticker) ticker = setInterval(render, 1000);
    if (!ready) {
      clearInterval(ticker);
      clearTimeout(refresher);
      ticker = undefined;
      refresher = undefined;
    }
    render();
    schedule();
  }

  extendButton.addEventListener('click', async () => {
    const { sandbox } = sandboxState();
    if (!sandbox) return;
    extendButton.disabled = true;
    try {
      await extendSandbox(extensionMinutes(sandbox));
      problem = '';
      render();
    } catch (error) {
      // The server's message says why (the longest allowed time, with the limit).
      problem = `Could not extend: ${describeError(error)}`;
      await refresh();
      render();
    } finally {
      extendButton.disabled = false;
    }
  });

  on('sidecar-lab:sandbox', onSandbox);
  onSandbox(sandboxState());
  initSavedWork(panel);
}

/** "Save and stop" while a sandbox runs; the saved work, to download or delete, when there is none. */
function initSavedWork(panel: HTMLElement): void {
  const $ = <T extends HTMLElement>(selector: string) => panel.querySelector<T>(selector)!;
  const saveButton = $<HTMLButtonElement>('[data-terminal-save]');
  const saved = $('[data-terminal-saved]');
  const forget = $<HTMLButtonElement>('[data-terminal-forget]');
  const message = $('[data-terminal-message]');

  async function showSaved(): Promise<void> {
    try {
      await call(() => server.api.saves.mine.$get());
      saved.hidden = false;
    } catch (error) {
      saved.hidden = true;
      if (!(error instanceof ApiRequestError && error.status === 404)) console.warn('sidecar-lab: saved work', error);
    }
  }

  on('sidecar-lab:sandbox', (state) => {
    saveButton.hidden = state.phase !== 'ready';
    if (state.phase === 'ended' || state.phase === 'idle') void showSaved();
    else saved.hidden = true;
  });
  saveButton.addEventListener('click', async () => {
    saveButton.disabled = true;
    try {
      await saveAndStop();
    } catch (error) {
      // Too large, say: the server's message names the limit.
      message.textContent = `Could not save: ${describeError(error)}`;
    } finally {
      saveButton.disabled = false;
    }
  });
  forget.addEventListener('click', async () => {
    if (!window.confirm('Delete your saved work? It will not come back.')) return;
    await call(() => server.api.saves.mine.$delete()).catch((error: unknown) =>
      console.warn('sidecar-lab: delete', error),
    );
    saved.hidden = true;
  });
  if (sandboxState().phase === 'idle') void showSaved();
}
