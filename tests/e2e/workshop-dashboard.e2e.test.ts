// The instructor's journey in a real browser, against an in-process server on the real cluster: create a workshop on
// the page, open the dashboard (a page of the course site), watch two learners join and pass checks live in the light
// and the dark theme, export, and end the workshop.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exerciseIds } from '../../exercises/registry.ts';
import { localAdminKubeconfigPath } from '../../sandbox-server/src/cluster/kubeconfig.ts';
import { LABELS } from '../../sandbox-server/src/cluster/labels.ts';
import type { RunningServer } from '../../sandbox-server/src/server.ts';
import { Learner, startTestServer } from '../../sandbox-server/test/harness.ts';
import { kubectl, kubectlRaw, waitFor, waitForPod } from '../support/kubectl.ts';

const SHOTS = join('test-results', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';

let server: RunningServer;
let browser: Browser;
let instructorContext: BrowserContext;
let dashboard: Page;
let workshop: { id: string; code: string; token: string };
let ada: { page: Page; sandbox: string; namespace: string };
const grace = { learner: undefined as unknown as Learner, sandbox: '' };
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // kubectl (to apply a learner's solution) needs the cluster the server uses; the global setup may not have said.
  process.env.KUBECONFIG ??= localAdminKubeconfigPath();
  // The instructor's pages (new workshop, dashboard) are part of the built site; the join pages are the server's.
  ({ server } = await startTestServer({
    SIDECAR_LAB_MAX_SANDBOXES: '500',
    SIDECAR_LAB_SITE_DIR: inject('e2eSiteDir'),
  }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  instructorContext = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    colorScheme: 'light',
    baseURL: server.url,
    acceptDownloads: true,
  });
  dashboard = await instructorContext.newPage();
  dashboard.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (workshop) {
    const left = await kubectlRaw(['get', 'ns', '-l', `${LABELS.workshop}=${workshop.id}`, '-o', 'name']);
    await Promise.all(
      left.stdout
        .split('\n')
        .filter(Boolean)
        .map((n) => kubectlRaw(['delete', n, '--wait=false'])),
    );
  }
});

const grid = () => dashboard.getByRole('table', { name: 'Learner progress' });
const row = (name: string) => grid().getByRole('row', { name: new RegExp(`^${name}\\b`) });
/** The background a passed cell has in each theme: the course's --ok-bg (site/styles/global.css). */
const PASSED_BACKGROUND = { light: 'rgb(218, 251, 225)', dark: 'rgb(18, 38, 26)' };

/** Waits for the learner's cell to read "Passed" and to be green in the theme the page shows. */
async function passedCell(name: string, theme: keyof typeof PASSED_BACKGROUND) {
  const cell = row(name).getByRole('cell', { name: /Passed/ });
  await cell.waitFor({ timeout: 30_000 });
  await expect.poll(() => cell.evaluate((td) => getComputedStyle(td).backgroundColor)).toBe(PASSED_BACKGROUND[theme]);
  return cell;
}

describe('the workshop dashboard', () => {
  it('is where a new workshop created on the instructor page leads, with the token kept out of the URL', async () => {
    const page = await dashboard.goto('/workshops/new');
    // A page of the course site now: its policy, its header with the theme toggle.
    expect(await page?.headerValue('content-security-policy')).toContain("frame-ancestors 'none'");
    await dashboard.getByRole('button', { name: 'Dark theme' }).waitFor();
    await dashboard.getByRole('textbox', { name: 'Name' }).fill('Sidecars in the browser');
    await dashboard.getByRole('spinbutton', { name: 'Capacity' }).fill('2');
    await dashboard.getByRole('textbox', { name: 'Duration' }).fill('1h30m');
    await dashboard.getByRole('button', { name: 'Create workshop' }).click();
    const created = dashboard.getByRole('region', { name: 'Workshop created' });
    await created.waitFor();
    // The form goes away with the answer, so it cannot be sent twice by mistake.
    expect(await dashboard.getByRole('button', { name: 'Create workshop' }).isVisible()).toBe(false);
    const code = (await created.locator('#created-code').textContent()) ?? '';
    const token = (await created.locator('#created-token').textContent()) ?? '';
    await dashboard.screenshot({ path: join(SHOTS, 'workshop-new.png'), fullPage: true });
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [response] = await Promise.all([
      dashboard.waitForResponse((r) => /\/workshops\/[0-9a-f]{16}\/dashboard$/.test(r.url())),
      created.getByRole('link', { name: 'Open the dashboard' }).click(),
    ]);
    // The site's page, sent by the server at the workshop's address: the site's policy, and no referrer at all.
    expect(response.status()).toBe(200);
    expect(await response.headerValue('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await response.headerValue('referrer-policy')).toBe('no-referrer');
    await dashboard.getByRole('button', { name: 'Dark theme' }).waitFor();

    await dashboard.getByRole('heading', { level: 1, name: 'Sidecars in the browser' }).waitFor();
    const id = /\/workshops\/([0-9a-f]{16})\/dashboard/.exec(dashboard.url())?.[1] ?? '';
    workshop = { id, code, token };
    expect(dashboard.url()).not.toContain('token');
    await expect.poll(() => dashboard.getByRole('status').filter({ hasText: 'Live' }).count()).toBe(1);
    await dashboard.getByText('No learners yet').waitFor();
    expect(await dashboard.getByRole('definition').filter({ hasText: '0 / 2' }).count()).toBe(1);
    expect(await grid().getByRole('columnheader').allTextContents()).toContain('Your first sidecar0 / 0 passed');
  });

  it('asks for the token in a tab that does not have it, and refuses a wrong one', async () => {
    const other = await instructorContext.newPage();
    await other.goto(`/workshops/${workshop.id}/dashboard`);
    const field = other.getByLabel('Paste the instructor token of this workshop');
    await field.fill('not-the-token');
    await other.getByRole('button', { name: 'Open dashboard' }).click();
    await other.getByText('That token does not open this workshop').waitFor();
    expect(await other.getByRole('table', { name: 'Learner progress' }).isVisible()).toBe(false);
    await other.close();
  });

  it('shows learners as they join, and turns the full workshop away with a clear page', async () => {
    const adaContext = await browser.newContext({ baseURL: server.url, viewport: { width: 1000, height: 800 } });
    const adaPage = await adaContext.newPage();
    await adaPage.goto(`/join/${workshop.code}`);
    await adaPage.getByRole('textbox', { name: 'Your display name' }).fill('Ada');
    await adaPage.screenshot({ path: join(SHOTS, 'workshop-join.png') });
    await adaPage.getByRole('button', { name: 'Join workshop' }).click();
    await adaPage.waitForURL((url) => url.pathname === '/', { timeout: 60_000 });
    const sandbox = await adaPage.evaluate(() => localStorage.getItem('sidecar-lab:sandbox-id'));
    expect(sandbox).toMatch(/^[0-9a-f]{16}$/);
    ada = { page: adaPage, sandbox: sandbox!, namespace: `sbx-${sandbox}` };

    grace.learner = new Learner(server.url);
    const joined = await grace.learner.request('POST', '/api/workshops/join', { code: workshop.code, name: 'Grace' });
    expect(joined.status).toBe(201);
    grace.sandbox = joined.json.sandbox.id;

    await row('Ada').getByText('Ready').waitFor();
    await row('Grace').getByText('Ready').waitFor();
    expect(await dashboard.getByRole('definition').filter({ hasText: '2 / 2' }).count()).toBe(1);

    const lateContext = await browser.newContext({ baseURL: server.url });
    const late = await lateContext.newPage();
    await late.goto(`/join/${workshop.code}`);
    await late.getByRole('heading', { name: 'This workshop is full' }).waitFor();
    expect(await late.getByText('All 2 places in "Sidecars in the browser" are taken').count()).toBe(1);
    await late.screenshot({ path: join(SHOTS, 'workshop-full.png') });
    await lateContext.close();
  });

  it('turns a cell green on a passing check, and counts a failed one', async () => {
    await kubectl(['-n', ada.namespace, 'apply', '-f', 'exercises/first-sidecar/solution/pod.yaml']);
    await waitForPod(ada.namespace, 'first-sidecar');
    const report = await ada.page.evaluate(async (id) => {
      const response = await fetch(`/api/sandboxes/${id}/checks/first-sidecar`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return response.json();
    }, ada.sandbox);
    expect(report.status).toBe('pass');
    // Pushed over the event stream: the page is not reloaded, the cell turns green where it is.
    await passedCell('Ada', 'light');

    const failed = await grace.learner.request('POST', `/api/sandboxes/${grace.sandbox}/checks/first-sidecar`, {});
    expect(failed.json.status).toBe('fail');
    await row('Grace')
      .getByRole('cell', { name: /Not yet/ })
      .waitFor({ timeout: 30_000 });
    expect(await grid().getByRole('columnheader').allTextContents()).toContain('Your first sidecar1 / 2 passed');
    // Grace has no Pod yet: that is where the room is stuck.
    const stuck = grid().getByRole('row', { name: /^Most stuck/ });
    await stuck.getByText('Pod "first-sidecar" exists').waitFor({ timeout: 30_000 });
    expect(await stuck.textContent()).toContain('— 1 learner: Grace');

    await dashboard.getByRole('button', { name: 'Extend everyone' }).click();
    await dashboard.getByText('Everyone has 15 more minutes.').waitFor();
    await dashboard.waitForTimeout(300);
    await dashboard.screenshot({ path: join(SHOTS, 'workshop-dashboard.png'), fullPage: true });
  });

  it('turns a cell green live in the dark theme too', async () => {
    const toggle = dashboard.getByRole('button', { name: 'Dark theme' });
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    // The grid the stream drew in light keeps its state: Ada's cell is now green in the dark palette.
    await passedCell('Ada', 'dark');
    const namespace = `sbx-${grace.sandbox}`;
    await kubectl(['-n', namespace, 'apply', '-f', 'exercises/first-sidecar/solution/pod.yaml']);
    await waitForPod(namespace, 'first-sidecar');
    const passed = await grace.learner.request('POST', `/api/sandboxes/${grace.sandbox}/checks/first-sidecar`, {});
    expect(passed.json.status).toBe('pass');
    const cell = await passedCell('Grace', 'dark');
    expect(await cell.textContent()).toContain('2 tries');
    expect(await grid().getByRole('columnheader').allTextContents()).toContain('Your first sidecar2 / 2 passed');
    // Nobody fails first-sidecar any more; the key still says what each colour means, in words.
    expect(await dashboard.getByText('How to read the grid:').count()).toBe(1);
    await dashboard.waitForTimeout(300);
    await dashboard.screenshot({ path: join(SHOTS, 'workshop-dashboard-dark.png'), fullPage: true });
  });

  it('exports the grid as CSV', async () => {
    const [download] = await Promise.all([
      dashboard.waitForEvent('download'),
      dashboard.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('sidecars-in-the-browser-results.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toMatch(/^learner,exercise,passed,attempts,first_pass_at\r\n/);
    expect(csv).toMatch(/\r\nAda,first-sidecar,true,1,\d{4}-\d\d-\d\dT[\d:.]+Z\r\n/);
    expect(csv).toMatch(/\r\nGrace,first-sidecar,true,2,\d{4}-\d\d-\d\dT[\d:.]+Z\r\n/);
    expect(csv.trimEnd().split('\r\n')).toHaveLength(1 + 2 * exerciseIds.length); // a row per learner and exercise
  });

  it('ends the workshop after a confirmation: sandboxes go, the grid stays', async () => {
    await dashboard.getByRole('toolbar').getByRole('button', { name: 'End workshop' }).click();
    const confirm = dashboard.getByRole('dialog', { name: 'End this workshop?' });
    await confirm.getByRole('button', { name: 'End workshop' }).click();
    await dashboard.getByText('Workshop ended: 2 sandboxes deleted.').waitFor({ timeout: 30_000 });
    await dashboard.getByRole('definition').getByText('Ended', { exact: true }).waitFor();
    expect(
      await row('Ada')
        .getByRole('cell', { name: /Passed/ })
        .count(),
    ).toBe(1);
    expect(await dashboard.getByRole('button', { name: 'Extend everyone' }).isDisabled()).toBe(true);
    await waitFor(
      'the workshop namespaces to be gone or terminating',
      async () => {
        const phases = await kubectl([
          'get',
          'ns',
          '-l',
          `${LABELS.workshop}=${workshop.id}`,
          '-o',
          'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}',
        ]);
        return phases
          .split('\n')
          .filter(Boolean)
          .every((p) => p === 'Terminating');
      },
      60_000,
    );
    await dashboard.screenshot({ path: join(SHOTS, 'workshop-dashboard-ended.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
