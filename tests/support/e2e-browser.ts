// What every browser test does around its pages: start Debian's Chromium, keep evidence of a failed step, and end the
// learner's sandbox afterwards so the cluster does not keep it until it expires.
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM } from './e2e-global-setup.ts';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
}

/** Deletes the sandbox the page remembers, from the page (its session cookie is the owner's). */
export async function endSandbox(page: Page | undefined): Promise<void> {
  await page
    ?.evaluate(async () => {
      const id = localStorage.getItem('sidecar-lab:sandbox-id');
      if (id) await fetch(`/api/sandboxes/${id}`, { method: 'DELETE', credentials: 'same-origin' });
    })
    .catch((error: unknown) => console.warn('could not end the sandbox', error));
}

/**
 * After a failed step: a screenshot under test-results/screenshots/ and the terminal panel's words on stderr, to tell
 * a page bug from a cluster hiccup.
 */
export async function recordFailure(page: Page, file: string): Promise<void> {
  const name = file.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  await page.screenshot({ path: join('test-results', 'screenshots', `failed-${name}.png`) }).catch(() => undefined);
  const panel = page.getByRole('complementary', { name: 'Terminal' });
  console.error('terminal panel at failure:', await panel.textContent().catch(() => '(unavailable)'));
}

/** Records every state the terminal panel goes through from now on; returns a reader of the states so far. */
export async function recordPanelStates(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const terminalPanel = document.getElementById('terminal-panel')!;
    const states: string[] = [];
    (window as unknown as { panelStates: string[] }).panelStates = states;
    new MutationObserver(() => states.push(terminalPanel.dataset.status ?? '')).observe(terminalPanel, {
      attributeFilter: ['data-status'],
    });
  });
  return () => page.evaluate(() => (window as unknown as { panelStates: string[] }).panelStates);
}
