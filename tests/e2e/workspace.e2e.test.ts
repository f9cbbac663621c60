// The workspace in a real browser against the real server and cluster: terminal tabs (two commands side by side that
// survive a reload, copy and paste, Ctrl+C) and the live Pod picture (a native sidecar with its volumes and ports, a
// restart seen as it happens, both themes, the text alternative), plus how long a Pod change takes to reach it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKube } from '../../sandbox-server/src/cluster/kube.ts';
import { loadKubeConfig } from '../../sandbox-server/src/cluster/kubeconfig.ts';
import type { PodViewFrameDetail } from '../../site/client/pod-view.ts';
import { endSandbox, launchChromium, recordFailure } from '../support/e2e-browser.ts';
import { POD_VIEW_DEMO, podViewDemoYaml } from '../support/pod-view-demo.ts';

const SHOTS = join('test-results', 'screenshots');
const WIDE = { width: 1440, height: 900 };
const LESSON = '/lessons/native-sidecars/';

let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** Every script the page fetched, to tell what loads up front from what loads when a feature opens. */
const scripts: string[] = [];
/** Requests the browser gave up on during the current page load. */
const failed: string[] = [];

declare global {
  interface Window {
    podViewFrames?: PodViewFrameDetail[];
  }
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  const baseURL = inject('e2eBaseUrl');
  context = await browser.newContext({ viewport: WIDE, colorScheme: 'light', baseURL });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  // Every frame the picture draws is kept, for the latency measurement (the page announces each one).
  await context.addInitScript(() => {
    window.podViewFrames = [];
    document.addEventListener('sidecar-lab:pod-view-frame', (event) => {
      window.podViewFrames?.push((event as CustomEvent<PodViewFrameDetail>).detail);
    });
  });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (m) => console.log('browser:', m.type(), m.text()));
  page.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
  });
  page.on('requestfailed', (request) => failed.push(`${request.url()} ${request.failure()?.errorText}`));
});

afterAll(async () => {
  await endSandbox(page);
  await browser?.close();
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page) await recordFailure(page, `workspace-${task.name}`);
});

const terminalPanel = () => page.getByRole('complementary', { name: 'Terminal' });
const tab = (n: number) => terminalPanel().getByRole('tab', { name: `Terminal ${n}` });
const podView = () => page.getByRole('region', { name: 'Your Pods, live' });

/** The text a tab's xterm shows (its DOM renderer keeps one element per row). */
async function tabText(n: number): Promise<string> {
  return (await page.locator(`#terminal-tabpanel-${n} .xterm-rows`).textContent()) ?? '';
}

async function waitForTab(n: number, text: string | RegExp, timeout = 120_000): Promise<void> {
  const check = async () => {
    const shown = await tabText(n);
    return typeof text === 'string' ? shown.includes(text) : text.test(shown);
  };
  await expect.poll(check, { timeout, interval: 300 }).toBe(true);
}

/** Types into the tab on screen, as the learner would. */
async function typeInTab(n: number, text: string): Promise<void> {
  await page.locator(`#terminal-tabpanel-${n} .xterm`).click();
  await page.keyboard.type(text);
}

/**
 * Loads (or reloads) the page until every request of the load went through. Chromium aborts requests in flight with
 * ERR_NETWORK_CHANGED when the node gains a network interface, which it does for every Pod the cluster starts; a
 * page script lost that way leaves the page without its behaviour, which is the browser's hiccup, not ours.
 */
async function load(url?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    failed.length = 0;
    if (url) await page.goto(url);
    else await page.reload();
    await page.waitForLoadState('load');
    if (failed.length === 0) return;
    console.warn(`page load ${attempt} lost requests, loading again:`, failed);
    if (attempt === 3) throw new Error(`three page loads lost requests: ${failed.join(', ')}`);
    url ??= page.url();
  }
}

async function shot(name: string): Promise<void> {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Scrolls the picture to the middle of the window (a theme switch moves the page under it). */
async function showPicture(): Promise<void> {
  await podView().evaluate((node) => node.scrollIntoView({ block: 'center' }));
}

async function setTheme(dark: boolean): Promise<void> {
  const toggle = page.getByRole('button', { name: 'Dark theme' });
  if ((await toggle.getAttribute('aria-pressed')) !== String(dark)) await toggle.click();
}

async function sandboxNamespace(): Promise<string> {
  return page.evaluate(async () => {
    const id = localStorage.getItem('sidecar-lab:sandbox-id');
    const answer = await fetch(`/api/sandboxes/${id}`, { credentials: 'same-origin' });
    return ((await answer.json()) as { namespace: string }).namespace;
  });
}

describe('terminal tabs', () => {
  it('loads neither the terminal nor the Pod picture before they are opened', async () => {
    await load(LESSON);
    await terminalPanel().getByRole('button', { name: 'Start sandbox' }).waitFor();
    await podView().getByRole('button', { name: 'Show my Pods' }).waitFor();
    expect(scripts.some((s) => /\/(terminal-tabs|pod-view)\./.test(s))).toBe(false);
  });

  it('runs two commands in two tabs, each its own shell in the same toolbox', async () => {
    await terminalPanel().getByRole('button', { name: 'Start sandbox' }).click();
    await terminalPanel().getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 120_000 });
    expect(await tab(1).getAttribute('aria-selected')).toBe('true');

    await terminalPanel().getByRole('button', { name: 'New tab' }).click();
    expect(await tab(2).getAttribute('aria-selected')).toBe('true');
    await terminalPanel().getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    await waitForTab(2, '$');
    await typeInTab(2, 'kubectl get pods -w\n');
    await waitForTab(2, /toolbox\s+1\/1\s+Running/);

    await tab(1).click();
    await waitForTab(1, '$');
    await typeInTab(1, 'echo "first tab: $((6*7))"\n');
    await waitForTab(1, 'first tab: 42');
    // The watch in tab 2 is still running (no prompt after its output).
    expect(await tabText(2)).not.toMatch(/Running\s*\S*\$\s*$/);
    await shot('workspace-tabs-two-commands');
  });

  it('keeps both tabs, their commands and the tab on screen across a reload', async () => {
    await tab(2).click();
    await load();
    await terminalPanel().getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    await tab(1).waitFor();
    await tab(2).waitFor();
    expect(await tab(2).getAttribute('aria-selected')).toBe('true');
    // tmux redraws each screen on attach: the watch is still running, the first tab's output still there.
    await waitForTab(2, /toolbox\s+1\/1\s+Running/, 60_000);
    await waitForTab(1, 'first tab: 42', 60_000);
    // The watch keeps reporting after the reload: a Pod created now shows up in tab 2.
    await tab(1).click();
    await typeInTab(1, 'kubectl run tab-check --image=busybox --restart=Never -- sleep 5\n');
    await tab(2).click();
    await waitForTab(2, 'tab-check');
    await shot('workspace-tabs-after-reload');
  });

  it('copies with Ctrl+Shift+C, pastes with Ctrl+Shift+V, and keeps Ctrl+C for the shell', async () => {
    await tab(1).click();
    await typeInTab(1, 'clear; echo copy-me-$((40+2))\n');
    await waitForTab(1, 'copy-me-42');
    const line = page.locator('#terminal-tabpanel-1 .xterm-rows > div').filter({ hasText: /^copy-me-42/ });
    // xterm's rows do not take pointer events (its screen above them does): double-click where the word is drawn.
    const box = (await line.boundingBox())!;
    await page.mouse.dblclick(box.x + 20, box.y + box.height / 2);
    await page.keyboard.press('Control+Shift+C');
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('copy-me-42');

    // The selection is still there; Ctrl+C interrupts the running command all the same.
    await page.keyboard.type('sleep 300\n');
    await page.waitForTimeout(500);
    await page.keyboard.press('Control+C');
    await page.keyboard.type('echo "after ctrl-c: $((1+1))"\n');
    await waitForTab(1, 'after ctrl-c: 2', 30_000);

    await page.keyboard.type('echo pasted-');
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await waitForTab(1, 'pasted-copy-me-42', 30_000);
  });

  it('works from the keyboard: arrows move between tabs, and a tab can be closed', async () => {
    await tab(1).focus();
    await page.keyboard.press('ArrowRight');
    expect(await tab(2).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('terminal-tab-2');
    await page.keyboard.press('Home');
    expect(await tab(1).getAttribute('aria-selected')).toBe('true');
    // The first tab is the sandbox's own shell: it has no close button.
    expect(
      await terminalPanel()
        .getByRole('button', { name: /^Close tab/ })
        .isVisible(),
    ).toBe(false);
    await page.keyboard.press('End');
    const close = terminalPanel().getByRole('button', { name: 'Close tab 2' });
    await close.click();
    await expect.poll(() => tab(2).count()).toBe(0);
    expect(await tab(1).getAttribute('aria-selected')).toBe('true');
    const tabs = () =>
      page.evaluate(async () => {
        const id = localStorage.getItem('sidecar-lab:sandbox-id');
        return (await (await fetch(`/api/sandboxes/${id}/terminals`)).json()) as { tabs: number[] };
      });
    // Its tmux session (and the watch in it) ended too.
    await expect.poll(tabs, { timeout: 30_000 }).toEqual({ tabs: [1] });
    // New tab and Close tab are named buttons; the tab list has a name.
    await terminalPanel().getByRole('tablist', { name: 'Terminals' }).waitFor();
    await terminalPanel().getByRole('button', { name: 'New tab' }).waitFor();
  });
});

describe('the Pod picture', () => {
  it('opens on demand, loading its code only then', async () => {
    const before = scripts.length;
    await podView().scrollIntoViewIfNeeded();
    await podView().getByRole('button', { name: 'Show my Pods' }).click();
    expect(await podView().getByRole('button', { name: 'Hide my Pods' }).getAttribute('aria-expanded')).toBe('true');
    await podView()
      .getByText(/^Live · \d+ Pods?/)
      .waitFor({ timeout: 30_000 });
    expect(scripts.slice(before).some((s) => /\/pod-view\./.test(s))).toBe(true);
    // The toolbox is the blueprint's, not the learner's: it is never drawn.
    expect(await podView().locator('svg[data-pod="toolbox"]').count()).toBe(0);
  });

  it('shows a native sidecar in start order with its volumes and ports', async () => {
    await page.evaluate(
      async ([content]) => {
        const id = localStorage.getItem('sidecar-lab:sandbox-id');
        await fetch(`/api/sandboxes/${id}/files`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ path: 'pod-view-demo.yaml', content }),
        });
      },
      [podViewDemoYaml],
    );
    await typeInTab(1, 'kubectl apply -f pod-view-demo.yaml\n');
    const containers = podView().getByRole('list', { name: `Containers of ${POD_VIEW_DEMO} in start order` });
    await expect
      .poll(() => containers.getByRole('listitem').allTextContents(), { timeout: 120_000, interval: 300 })
      .toEqual([
        expect.stringMatching(
          /^1\. init container prepare, image busybox: terminated \(Completed\); not ready; 0 restarts; mounts site at \/work\.$/,
        ),
        expect.stringMatching(
          /^2\. native sidecar log-shipper, image busybox: running; ready; 0 restarts; mounts logs at \/logs read-only\.$/,
        ),
        expect.stringMatching(
          /^3\. app container web, image nginx:1\.26: running; ready; 0 restarts; ports 80\/TCP; mounts logs at \/var\/log\/nginx, site at \/usr\/share\/nginx\/html\.$/,
        ),
      ]);
    const volumes = podView()
      .getByRole('list', { name: `Volumes of ${POD_VIEW_DEMO}` })
      .getByRole('listitem');
    expect(await volumes.allTextContents()).toEqual([
      'Volume logs (emptyDir), shared: mounted by log-shipper at /logs and web at /var/log/nginx.',
      'Volume site (emptyDir), shared: mounted by prepare at /work and web at /usr/share/nginx/html.',
    ]);
    // The picture itself: three boxes in that order, two volume pills, a link per mount, the port.
    const svg = podView().locator(`svg[data-pod="${POD_VIEW_DEMO}"]`);
    expect(
      await svg.locator('[data-container]').evaluateAll((g) => g.map((x) => x.getAttribute('data-container'))),
    ).toEqual(['prepare', 'log-shipper', 'web']);
    expect(await svg.locator('[data-volume]').count()).toBe(2);
    expect(await svg.locator('.pv-link').count()).toBe(4);
    await svg.getByText('⇄ port 80/TCP (http)').waitFor();
    await svg.getByText('2 · SIDECAR').waitFor();

    await showPicture();
    await shot('workspace-pod-view-light');
    await setTheme(true);
    await showPicture();
    await shot('workspace-pod-view-dark');
    await setTheme(false);
  });

  it('shows the restart count rise when the sidecar is killed, and says so', async () => {
    await typeInTab(1, `kubectl exec ${POD_VIEW_DEMO} -c log-shipper -- touch /tmp/die\n`);
    const shipper = podView()
      .getByRole('list', { name: `Containers of ${POD_VIEW_DEMO} in start order` })
      .getByRole('listitem')
      .nth(1);
    await expect.poll(() => shipper.textContent(), { timeout: 120_000, interval: 300 }).toMatch(/; 1 restart;/);
    expect(await shipper.textContent()).toContain('last ended Error (exit 3)');
    const svg = podView().locator(`svg[data-pod="${POD_VIEW_DEMO}"]`);
    await svg
      .locator('[data-container="log-shipper"]')
      .getByText(/^restarts: 1/)
      .waitFor();
    // The live region told screen readers what happened (it holds the latest change).
    await expect
      .poll(() => podView().getByRole('status').allTextContents(), { timeout: 30_000 })
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(/log-shipper in pod-view-demo (restarted \(1 restarts\)|is running)/),
        ]),
      );
    await showPicture();
    await shot('workspace-pod-view-restarted');
    expect(pageErrors).toEqual([]);
  });

  it('measures the time from a Pod change to the picture drawing it', async () => {
    // Not a bound: a measurement, written to test-results/ and printed. The change is made through the API server by
    // this process; "after answer" starts when the API server confirmed the write, "after send" when it was sent.
    const kube = createKube(loadKubeConfig());
    const namespace = await sandboxNamespace();
    await typeInTab(1, `kubectl delete pod ${POD_VIEW_DEMO} tab-check --now --ignore-not-found\n`);
    await waitForTab(1, `pod "${POD_VIEW_DEMO}" deleted`);
    const samples: Array<{ change: string; afterSend: number; afterAnswer: number }> = [];
    const frames = () => page.evaluate(() => window.podViewFrames ?? []);
    const drawnSince = async (since: number, test: (f: PodViewFrameDetail) => boolean) => {
      let found: PodViewFrameDetail | undefined;
      await expect
        .poll(
          async () => {
            found = (await frames()).find((f) => f.drawnAt >= since && test(f));
            return found !== undefined;
          },
          { timeout: 30_000, interval: 100 },
        )
        .toBe(true);
      return found!.drawnAt;
    };
    for (let i = 0; i < 10; i++) {
      const name = `latency-${i}`;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: 'busybox',
              command: ['sleep', '3600'],
              // Small, so the rounds fit the sandbox's quota next to the toolbox.
              resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '20m', memory: '32Mi' } },
            },
          ],
        },
      };
      let sent = Date.now();
      await kube.rest.json({ method: 'POST', path: `/api/v1/namespaces/${namespace}/pods`, body: pod });
      let answered = Date.now();
      let drawn = await drawnSince(sent, (f) => f.pods.includes(name));
      samples.push({ change: 'create', afterSend: drawn - sent, afterAnswer: drawn - answered });

      sent = Date.now();
      await kube.rest.json({ method: 'DELETE', path: `/api/v1/namespaces/${namespace}/pods/${name}` });
      answered = Date.now();
      drawn = await drawnSince(sent, (f) => f.deleting.includes(name));
      samples.push({ change: 'delete', afterSend: drawn - sent, afterAnswer: drawn - answered });
      await drawnSince(drawn, (f) => !f.pods.includes(name));
    }
    const sorted = (key: 'afterSend' | 'afterAnswer') => samples.map((s) => s[key]).sort((a, b) => a - b);
    const pct = (values: number[], p: number) =>
      values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
    const summary = {
      samples: samples.length,
      afterSendMs: {
        p50: pct(sorted('afterSend'), 50),
        p95: pct(sorted('afterSend'), 95),
        max: sorted('afterSend').at(-1),
      },
      afterAnswerMs: {
        p50: pct(sorted('afterAnswer'), 50),
        p95: pct(sorted('afterAnswer'), 95),
        max: sorted('afterAnswer').at(-1),
      },
      raw: samples,
    };
    writeFileSync(join('test-results', 'pod-view-latency.json'), `${JSON.stringify(summary, null, 2)}\n`);
    console.log('Pod change → picture drawn (ms):', JSON.stringify({ ...summary, raw: undefined }));
    expect(samples).toHaveLength(20);
  });
});
