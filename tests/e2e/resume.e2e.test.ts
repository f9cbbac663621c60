// Coming back on another device, in a real browser: one browser makes a resume code, a second opens the link and
// continues with the same progress, and once the code is revoked a third is told so.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../sandbox-server/src/server.ts';
import { startTestServer } from '../../sandbox-server/test/harness.ts';
import { launchChromium } from '../support/e2e-browser.ts';

const SHOTS = join('test-results', 'screenshots');
let server: RunningServer;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The resume page is the site's: the build the global setup made, never a stale dist/site.
  ({ server } = await startTestServer({ SIDECAR_LAB_SITE_DIR: inject('e2eSiteDir') }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function newBrowserPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

const progressOf = (page: Page) =>
  page.evaluate(async () => (await fetch('/api/progress', { credentials: 'same-origin' })).json());

it('continues a learner on a second browser with a resume code, until the code is revoked', async () => {
  const laptop = await newBrowserPage();
  await laptop.goto('/');
  await laptop.evaluate(() => fetch('/api/progress/lessons/introduction', { method: 'POST' }));
  await laptop.getByRole('link', { name: 'Continue on another device' }).click();
  await laptop.getByRole('button', { name: 'Make a new code' }).click();
  // The page fills the code in once the server answered.
  const codeShown = laptop.locator('[data-resume-code]');
  await expect.poll(() => codeShown.textContent()).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  const code = (await codeShown.textContent())?.trim() ?? '';
  await expect.poll(() => laptop.locator('[data-resume-status]').textContent()).toMatch(/You have a resume code/);
  const link = await laptop.getByRole('link', { name: /\/resume\/#/ }).getAttribute('href');
  await laptop.screenshot({ path: join(SHOTS, 'resume-code.png') });

  const phone = await newBrowserPage();
  await phone.goto('/');
  expect(await progressOf(phone)).not.toEqual(await progressOf(laptop));
  await phone.goto(link!);
  expect(await phone.getByLabel('Resume code', { exact: true }).inputValue()).toBe(code);
  await phone.getByRole('button', { name: 'Continue as that learner' }).click();
  await expect.poll(() => phone.getByRole('status').filter({ hasText: 'Done' }).count()).toBe(1);
  expect(await progressOf(phone)).toEqual(await progressOf(laptop));
  await phone.screenshot({ path: join(SHOTS, 'resume-continued.png') });

  await laptop.getByRole('button', { name: 'Revoke my code' }).click();
  await expect.poll(() => laptop.locator('[data-resume-status]').textContent()).toBe('You have no resume code.');
  const stranger = await newBrowserPage();
  await stranger.goto(link!);
  await stranger.getByRole('button', { name: 'Continue as that learner' }).click();
  await expect.poll(() => stranger.locator('[data-resume-result]').textContent()).toMatch(/no such resume code/);
  expect(pageErrors).toEqual([]);
});
