// The web preview in a real browser against the real server and cluster: the pod-structure lesson's <Preview> shows
// the seed's nginx page; a hostile Pod page, framed by the same client code and opened as a tab of its own, tries the
// course's cookies, API, storage and framing page and reports in its own DOM that it got none of them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type FrameLocator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SESSION_COOKIE } from '../../sandbox-server/src/http/session.ts';
import { CHROMIUM } from '../support/e2e-global-setup.ts';
import { kubectl, kubectlRaw, waitForPod } from '../support/kubectl.ts';
import { hostilePod } from '../support/preview-pods.ts';

const SHOTS = join('test-results', 'screenshots');
const SEED_POD = 'lessons/manifests/seed-nginx-with-sidecar.yaml';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let sandbox: { id: string; namespace: string };
const pageErrors: string[] = [];
/** Every request for the course's API, with whether it carried the session cookie. */
const apiRequests: Array<{ url: string; frame: string; cookie: boolean }> = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    baseURL: inject('e2eBaseUrl'),
  });
  context.on('request', async (request) => {
    if (!new URL(request.url()).pathname.startsWith('/api/progress')) return;
    const headers = await request.allHeaders();
    apiRequests.push({
      url: request.url(),
      frame: request.frame()?.url() ?? '',
      cookie: (headers.cookie ?? '').includes(SESSION_COOKIE),
    });
  });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto('/lessons/pod-structure/');
  // The learner's sandbox, made the way the page makes it, then the seed's Pod and a hostile one in it.
  sandbox = await page.evaluate(async () => {
    const response = await fetch('/api/sandboxes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    return response.json();
  });
  await page.evaluate((id) => localStorage.setItem('sidecar-lab:sandbox-id', id), sandbox.id);
  await kubectl(['-n', sandbox.namespace, 'apply', '-f', SEED_POD]);
  await kubectl(['-n', sandbox.namespace, 'apply', '-f', '-'], hostilePod());
  await Promise.all([waitForPod(sandbox.namespace, 'nginx-with-sidecar'), waitForPod(sandbox.namespace, 'hostile')]);
  await page.reload();
}, 240_000);

afterAll(async () => {
  if (sandbox) await kubectlRaw(['delete', 'namespace', sandbox.namespace, '--wait=false']);
  await browser?.close();
});

const previewBlock = (pod: string) => page.getByRole('region', { name: new RegExp(`^Web preview of ${pod}, port`) });

/** The page's own report of what it got, as written into its DOM. */
async function hostileReport(frame: FrameLocator | Page) {
  const read = async (id: string) => {
    const output = frame.locator(`#${id}`);
    await expect.poll(() => output.textContent(), { timeout: 30_000 }).not.toBe('pending');
    return output.textContent();
  };
  return {
    cookie: await read('cookie'),
    progress: await read('progress'),
    parent: await read('parent'),
    storage: await read('storage'),
  };
}

describe('the web preview of a Pod', () => {
  it("shows the seed's nginx page in a sandboxed frame, opened and closed from the keyboard", async () => {
    const block = previewBlock('nginx-with-sidecar');
    const button = block.getByRole('button', { name: 'Preview', exact: true });
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    // The frame's code is not on the page until the learner asks for it.
    expect(await page.locator('iframe.preview-frame').count()).toBe(0);
    await button.focus();
    await page.keyboard.press('Enter');
    const frame = block.getByTitle('Page served by Pod nginx-with-sidecar on port 80');
    await frame.waitFor();
    expect(await frame.getAttribute('sandbox')).toBe('allow-scripts allow-forms allow-popups');
    await expect
      .poll(() => block.frameLocator('iframe').locator('h1').textContent(), { timeout: 30_000 })
      .toBe('Welcome to nginx!');
    const close = block.getByRole('button', { name: 'Close preview' });
    expect(await close.getAttribute('aria-expanded')).toBe('true');
    await block.getByRole('status').filter({ hasText: 'Shown below' }).waitFor();
    await block.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'preview-nginx.png') });
    expect(await block.getByRole('link', { name: 'Open in a new tab' }).getAttribute('href')).toBe(
      `/preview/sandboxes/${sandbox.id}/pods/nginx-with-sidecar/80/`,
    );
    await close.focus();
    await page.keyboard.press('Enter');
    await block.getByRole('button', { name: 'Preview', exact: true }).waitFor();
    expect(await block.locator('iframe').count()).toBe(0);
  });

  it("a hostile Pod page in the frame gets none of the course's cookie, API, storage or page", async () => {
    // The course does have a session cookie the page could want.
    expect((await context.cookies()).some((c) => c.name === SESSION_COOKIE)).toBe(true);
    // The same client code frames the hostile Pod: a copy of the lesson's block pointed at it.
    await page.evaluate(() => {
      const original = document.querySelector<HTMLElement>('[data-preview-pod="nginx-with-sidecar"]');
      const copy = original?.cloneNode(true) as HTMLElement;
      copy.dataset.previewPod = 'hostile';
      copy.dataset.previewPort = '8080';
      copy.setAttribute('aria-label', 'Web preview of hostile, port 8080');
      copy.querySelector('.preview-body')?.setAttribute('id', 'preview-hostile-8080');
      copy.querySelector('[data-preview-toggle]')?.setAttribute('aria-controls', 'preview-hostile-8080');
      original?.after(copy);
    });
    const block = previewBlock('hostile');
    await block.getByRole('button', { name: 'Preview', exact: true }).click();
    const report = await hostileReport(block.frameLocator('iframe'));
    await block.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'preview-hostile-framed.png') });
    expect(report.cookie).toBe('blocked:SecurityError');
    expect(report.parent).toBe('blocked:SecurityError');
    expect(report.storage).toBe('blocked:SecurityError');
    expect(report.progress).toBe('blocked:TypeError');
    // The lesson page is untouched and still works.
    expect(await page.title()).toMatch(/Pod/);
    expect(pageErrors).toEqual([]);
  });

  it('the same page opened as a tab of its own runs in an opaque origin too', async () => {
    const tab = await context.newPage();
    await tab.goto(`/preview/sandboxes/${sandbox.id}/pods/hostile/8080/`);
    const report = await hostileReport(tab);
    await tab.screenshot({ path: join(SHOTS, 'preview-hostile-tab.png') });
    expect(report.cookie).toBe('blocked:SecurityError');
    expect(report.storage).toBe('blocked:SecurityError');
    expect(report.progress).toBe('blocked:TypeError');
    expect(await tab.evaluate(() => origin)).toBe('null');
    await tab.close();
    // Whatever reached the course's API from a preview came without the learner's session.
    const fromPreviews = apiRequests.filter((r) => r.frame.includes('/preview/'));
    expect(fromPreviews.length).toBeGreaterThan(0);
    expect(fromPreviews.filter((r) => r.cookie)).toEqual([]);
  });

  it('offers a Preview link for every container port in the live Pod picture, opening the page in its own tab', async () => {
    await page.goto('/lessons/native-sidecars/');
    await page.getByRole('button', { name: 'Show my Pods' }).first().click();
    const link = page.getByRole('link', { name: 'Preview nginx-with-sidecar port 80' });
    await link.waitFor({ timeout: 60_000 });
    expect(await link.getAttribute('href')).toBe(`/preview/sandboxes/${sandbox.id}/pods/nginx-with-sidecar/80/`);
    expect(await page.getByRole('link', { name: 'Preview hostile port 8080' }).count()).toBe(1);
    const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await tab.getByRole('heading', { name: 'Welcome to nginx!' }).waitFor({ timeout: 30_000 });
    expect(await tab.evaluate(() => origin)).toBe('null');
    await tab.close();
  });

  it("another learner gets 404 for this learner's preview", async () => {
    const stranger = await browser.newContext({ baseURL: inject('e2eBaseUrl') });
    const response = await stranger.request.get(`/preview/sandboxes/${sandbox.id}/pods/nginx-with-sidecar/80/`);
    expect(response.status()).toBe(404);
    expect(await response.text()).toBe('No such sandbox.\n');
    await stranger.close();
  });
});
