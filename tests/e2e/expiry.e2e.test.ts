// The sandbox's time left in a real browser against the real server and cluster: the terminal bar counts down, a
// warning with "Extend" appears before the sandbox stops, Extend and typing in the terminal each make it go away, and
// at the maximum lifetime the warning says so without an Extend button. The server runs with the default periods, so
// the expiry is brought near by annotating the learner's namespace, as the reaper and the server read it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ANNOTATIONS } from '../../sandbox-server/src/cluster/labels.ts';
import { CHROMIUM } from '../support/e2e-global-setup.ts';
import { kubectl } from '../support/kubectl.ts';

const SHOTS = join('test-results', 'screenshots');

let browser: Browser;
let page: Page;
let namespace: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: inject('e2eBaseUrl') });
  page = await context.newPage();
});

afterAll(async () => {
  await page
    ?.evaluate(async () => {
      const id = localStorage.getItem('sidecar-lab:sandbox-id');
      if (id) await fetch(`/api/sandboxes/${id}`, { method: 'DELETE', credentials: 'same-origin' });
    })
    .catch((error: unknown) => console.warn('could not end the sandbox', error));
  await browser?.close();
});

const panel = () => page.getByRole('complementary', { name: 'Terminal' });
/** The warning's words; empty while there is no warning (the hidden alert is then out of the accessibility tree). */
const warning = () => panel().locator('[data-expiry-text]');
const timeLeft = () => panel().locator('[data-terminal-left]');

/** Sets the namespace's expiry (and, when given, its maximum) to `seconds` from now. */
async function expireIn(seconds: number, alsoLimit = false): Promise<void> {
  const at = new Date(Date.now() + seconds * 1000).toISOString();
  await kubectl([
    'annotate',
    'ns',
    namespace,
    `${ANNOTATIONS.expiresAt}=${at}`,
    ...(alsoLimit ? [`${ANNOTATIONS.endsBy}=${at}`] : []),
    '--overwrite',
  ]);
}

/**
 * Brings the expiry near and waits for the page to warn with `words`. Typing is recorded at most once a minute, the
 * rest of a burst a minute later: a write still due from earlier typing (or the terminal's own answers when it
 * connected) moves the expiry out again, so the annotation is set again until the warning shows.
 */
async function untilWarned(words: string, alsoLimit = false): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await expireIn(120, alsoLimit);
    try {
      await expect.poll(() => warning().textContent(), { timeout: 45_000 }).toContain(words);
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

describe('time left and the warning before a sandbox stops', () => {
  it('shows the time left once the terminal is connected', async () => {
    await page.goto('/lessons/logging-sidecar/');
    await panel().getByRole('button', { name: 'Start sandbox' }).click();
    await panel().getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 240_000 });
    const id = await page.evaluate(() => localStorage.getItem('sidecar-lab:sandbox-id'));
    namespace = `sbx-${id}`;
    // The default idle period is an hour: "59 min left" or "1 h 00 min left".
    await expect.poll(() => timeLeft().textContent(), { timeout: 10_000 }).toMatch(/^(59 min|1 h 00 min) left$/);
    expect(await warning().textContent()).toBe('');
  });

  it('warns before the sandbox stops, and Extend gives it more time', async () => {
    // The page re-reads the expiry on its own (every 30 s at the default idle period).
    await untilWarned('stops soon');
    await panel().getByRole('alert').filter({ hasText: 'stops soon' }).waitFor();
    await expect.poll(() => timeLeft().textContent()).toMatch(/^(1 min|\d+ s) left$/);
    await page.screenshot({ path: join(SHOTS, 'expiry-warning.png') });
    await panel().getByRole('button', { name: 'Extend' }).click();
    await expect.poll(() => warning().textContent(), { timeout: 30_000 }).toBe('');
    await expect.poll(() => timeLeft().textContent()).toMatch(/^1 h 0[0-2] min left$/);
  });

  it('typing in the terminal is activity: the warning goes away by itself', async () => {
    await untilWarned('stops soon');
    await page.locator('.xterm').click();
    await page.keyboard.type('echo still here\n');
    // Written within the activity interval (a minute at most at the default idle period), then re-read by the page.
    await expect.poll(() => warning().textContent(), { timeout: 120_000 }).toBe('');
    await expect.poll(() => timeLeft().textContent()).toMatch(/^(59 min|1 h 00 min) left$/);
  });

  it('at the longest allowed time the warning says so and offers no Extend', async () => {
    await untilWarned('longest allowed time soon and cannot be extended', true);
    expect(await panel().getByRole('button', { name: 'Extend' }).isVisible()).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'expiry-at-limit.png') });
  });

  it('Save and stop saves the work and ends the sandbox; the saved work can be downloaded', async () => {
    await panel().getByRole('button', { name: 'Save and stop' }).click();
    await panel().getByText('Your work is saved and the sandbox stopped').waitFor({ timeout: 120_000 });
    const download = panel().getByRole('link', { name: 'Download it' });
    await download.waitFor();
    expect(await download.getAttribute('href')).toBe('/api/saves/mine.tar.gz');
    await page.screenshot({ path: join(SHOTS, 'saved-work.png') });
  });
});
