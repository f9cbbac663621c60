// The learner's journey in a real browser against the real server and cluster: open the logging lesson, start the
// sandbox, create and apply the seed's logging Pod from the page (which does not pass the exercise), apply a Pod of
// their own and check it green, break it, and watch the right check turn red with its hint — then reload and find the
// terminal and the progress still there.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { endSandbox, launchChromium, recordFailure } from '../support/e2e-browser.ts';

const SHOTS = join('test-results', 'screenshots');
const WIDE = { width: 1440, height: 900 };
const NARROW = { width: 390, height: 844 };

let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** What the page's Content-Security-Policy refused: its violation events and the console's CSP lines. */
const cspViolations: string[] = [];
/** What each check request said started it, in order: a press of Check is `manual`, a re-run by itself `auto`. */
const checkTriggers: unknown[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: WIDE, colorScheme: 'light', baseURL: inject('e2eBaseUrl') });
  // Every document reports the policy's refusals on the console, where they are collected (a CDP init script is not
  // itself subject to the page's policy).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`csp-violation: ${event.violatedDirective} blocked ${event.blockedURI || '(inline)'}`);
    });
  });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('csp-violation:') || /Content Security Policy/i.test(text)) cspViolations.push(text);
  });
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/checks\//.test(request.url()))
      checkTriggers.push(request.postDataJSON()?.trigger);
  });
});

afterAll(async () => {
  // End the sandbox so the cluster does not keep it until it expires.
  await endSandbox(page);
  await browser?.close();
});

afterEach(async ({ task }) => {
  // A failed step leaves a picture and the terminal panel's words behind, to tell a page bug from a cluster hiccup.
  if (task.result?.state === 'fail' && page) await recordFailure(page, task.name);
});

const terminalPanel = () => page.getByRole('complementary', { name: 'Terminal' });
const exercise = () => page.getByRole('region', { name: 'Exercise A logging sidecar' });
/** One row of the check list, found by its title (other rows may mention it in their messages). */
const checkItem = (title: string) =>
  exercise()
    .getByRole('listitem')
    .filter({ has: page.getByText(title, { exact: true }) });

/** The text xterm shows (its DOM renderer keeps one element per row). */
async function terminalText(): Promise<string> {
  return (await page.locator('.xterm-rows').textContent()) ?? '';
}

async function waitForTerminal(text: string, timeoutMs = 120_000): Promise<void> {
  await expect.poll(terminalText, { timeout: timeoutMs, interval: 500 }).toContain(text);
}

async function runCommand(command: string): Promise<void> {
  await page.getByRole('button', { name: `Run in terminal: ${command}`, exact: true }).click();
}

async function createFile(path: string): Promise<void> {
  const button = page.getByRole('button', { name: `Create ${path} in the sandbox` });
  await button.click();
  await button
    .locator('xpath=..')
    .getByRole('status')
    .filter({ hasText: `Created ~/${path}` })
    .waitFor();
}

/** Writes a file into the toolbox's home folder as the page does (what a learner would type in an editor). */
async function writeSandboxFile(path: string, content: string): Promise<void> {
  const status = await page.evaluate(
    async ({ path, content }) => {
      const id = localStorage.getItem('sidecar-lab:sandbox-id');
      const response = await fetch(`/api/sandboxes/${id}/files`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ path, content }),
      });
      return response.status;
    },
    { path, content },
  );
  expect(status, `writing ${path}`).toBe(204);
}

/** Types a command into the terminal, as a learner does for one the page has no button for. */
async function typeCommand(command: string): Promise<void> {
  await page.locator('.xterm').click();
  await page.keyboard.type(`${command}\n`);
}

async function shot(name: string, viewport = WIDE, scrollTo?: Locator): Promise<void> {
  await page.setViewportSize(viewport);
  if (scrollTo) await scrollTo.scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function setTheme(dark: boolean): Promise<void> {
  const toggle = page.getByRole('button', { name: 'Dark theme' });
  if ((await toggle.getAttribute('aria-pressed')) !== String(dark)) await toggle.click();
}

describe('the logging lesson, end to end', () => {
  it('opens with its landmarks, the lesson and a terminal that is not loaded yet', async () => {
    const response = await page.goto('/lessons/logging-sidecar/');
    // The course's policy: scripts from the site and the build's hashed inline scripts only, no framing.
    const policy = (await response?.headerValue('content-security-policy')) ?? '';
    expect(policy).toMatch(/(^|; )script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+(;|$)/);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    await page.getByRole('heading', { level: 1, name: 'A logging sidecar' }).waitFor();
    await page.getByRole('navigation', { name: 'Course' }).waitFor();
    await page.getByRole('main').waitFor();
    await terminalPanel().getByRole('button', { name: 'Start sandbox' }).waitFor();
    // xterm is a separate chunk, fetched only when the learner opens the terminal.
    expect(await page.locator('.xterm').count()).toBe(0);
    await shot('lesson-wide-light-before-start');
  });

  it('starts the sandbox and connects the terminal', async () => {
    await terminalPanel().getByRole('button', { name: 'Start sandbox' }).click();
    await terminalPanel().getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 120_000 });
    // Typing goes straight to the shell in the toolbox Pod, which lists itself.
    await page.locator('.xterm').click();
    await page.keyboard.type('kubectl get pods\n');
    await waitForTerminal('toolbox');
  });

  it('creates the seed logging Pod with <CreateFile> and <Run>, which does not pass the exercise', async () => {
    await createFile('logging-pod.yaml');
    await runCommand('kubectl apply -f logging-pod.yaml');
    await waitForTerminal('pod/logging-sidecar-example created');
    await runCommand('kubectl wait --for=condition=Ready pod/logging-sidecar-example --timeout=90s');
    await waitForTerminal('pod/logging-sidecar-example condition met');

    await exercise().scrollIntoViewIfNeeded();
    await exercise().getByRole('button', { name: 'Check', exact: true }).click();
    const exists = checkItem('Pod "logging-sidecar" exists');
    await expect.poll(() => exists.getAttribute('data-status'), { timeout: 90_000, interval: 500 }).toBe('fail');
    expect(checkTriggers[0]).toBe('manual');
  });

  it("applies the learner's own Pod, and every check passes", async () => {
    await writeSandboxFile('my-logging.yaml', readFileSync('exercises/logging-sidecar/solution/pod.yaml', 'utf8'));
    await typeCommand('kubectl apply -f my-logging.yaml');
    await waitForTerminal('pod/logging-sidecar created');
    await typeCommand('kubectl wait --for=condition=Ready pod/logging-sidecar --timeout=90s');
    await waitForTerminal('pod/logging-sidecar condition met');

    await exercise().scrollIntoViewIfNeeded();
    const items = exercise().getByRole('list', { name: 'Checks for A logging sidecar' }).getByRole('listitem');
    // Each row's states as the page shows them: the verdicts come one by one, each row marked running before its own.
    // Several changes can land in one task (two verdicts in one chunk of the stream), and the observer runs after
    // all of them, so it keeps each change's old value; the states a row went through are those after the first,
    // then its status now.
    await items.evaluateAll((nodes) => {
      const before: Record<string, string[]> = {};
      const list = nodes[0]!.parentElement!;
      (window as unknown as { rowStates: () => Record<string, string[]> }).rowStates = () =>
        Object.fromEntries(
          Object.entries(before).map(([id, olds]) => {
            const row = list.querySelector<HTMLElement>(`[data-check-id="${CSS.escape(id)}"]`)!;
            return [id, [...olds.slice(1), row.dataset.status!]];
          }),
        );
      new MutationObserver((records) => {
        for (const record of records) {
          const id = (record.target as HTMLElement).dataset.checkId!;
          before[id] = [...(before[id] ?? []), record.oldValue ?? ''];
        }
      }).observe(list, { subtree: true, attributeFilter: ['data-status'], attributeOldValue: true });
    });
    await exercise().getByRole('button', { name: 'Check', exact: true }).click();
    const summary = exercise()
      .getByRole('status')
      .filter({ hasText: /All \d+ checks pass/ });
    await summary.waitFor({ timeout: 90_000 });
    const statuses = await items.evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.status));
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 'pass')).toBe(true);
    const rowStates = await page.evaluate(() =>
      (window as unknown as { rowStates: () => Record<string, string[]> }).rowStates(),
    );
    expect(Object.keys(rowStates)).toHaveLength(statuses.length);
    for (const [row, states] of Object.entries(rowStates)) expect(states, row).toContain('running');
    // The solution is revealed only now that the learner has tried.
    await exercise().getByText('Show the solution').waitFor();
    expect(checkTriggers.filter((t) => t === 'manual')).toHaveLength(2);

    await shot('lesson-wide-light', WIDE, exercise());
    await setTheme(true);
    await shot('lesson-wide-dark', WIDE, exercise());
    await shot('lesson-narrow-dark', NARROW, exercise());
    await setTheme(false);
    await shot('lesson-narrow-light', NARROW, exercise());
    await page.setViewportSize(WIDE);
  });

  it('re-runs the checks by itself when the Pod is broken, and names the failing check with its hint', async () => {
    const pressed = checkTriggers.length;
    // The learner's Pod without the collector's volumeMounts (the exercise's own broken variant for that check).
    const broken = readFileSync('exercises/logging-sidecar/broken/collector-mounts-log-volume.yaml', 'utf8');
    await writeSandboxFile('my-logging-broken.yaml', broken);
    await typeCommand('kubectl delete pod logging-sidecar --now && kubectl apply -f my-logging-broken.yaml');
    // No second press of Check: the namespace watch re-runs the checks while the exercise is on screen.
    await exercise().scrollIntoViewIfNeeded();
    const mount = checkItem('log-collector mounts the volume that nginx writes to');
    await expect.poll(() => mount.getAttribute('data-status'), { timeout: 120_000, interval: 500 }).toBe('fail');
    await mount.getByText(/Hint: Both containers need a volumeMount with the same volume name/).waitFor();
    expect(await checkItem('Pod "logging-sidecar" exists').getAttribute('data-status')).toBe('pass');
    // Those re-runs are not attempts: the page says so to the server.
    expect(checkTriggers.slice(pressed).length).toBeGreaterThan(0);
    expect(new Set(checkTriggers.slice(pressed))).toEqual(new Set(['auto']));
    await shot('lesson-wide-light-check-failing', WIDE, mount);
  });

  it('works from the keyboard and with a screen reader', async () => {
    const splitter = page.getByRole('separator', { name: 'Resize the terminal' });
    const before = Number(await splitter.getAttribute('aria-valuenow'));
    await splitter.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    expect(Number(await splitter.getAttribute('aria-valuenow'))).toBeGreaterThan(before);

    // Tab belongs to the shell, so F6 is the way out of the terminal.
    await page.locator('.xterm').click();
    await page.keyboard.press('F6');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    const reader = terminalPanel().getByRole('button', { name: 'Screen reader mode' });
    await reader.click();
    expect(await reader.getAttribute('aria-pressed')).toBe('true');
    await page.locator('.xterm-accessibility-tree').waitFor({ state: 'attached' });
    await reader.click();

    const hide = terminalPanel().getByRole('button', { name: 'Hide' });
    await hide.click();
    const show = terminalPanel().getByRole('button', { name: 'Show terminal' });
    expect(await show.getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('.xterm').isVisible()).toBe(false);
    await shot('lesson-wide-light-terminal-collapsed');
    await show.click();
    expect(await page.locator('.xterm').isVisible()).toBe(true);
  });

  it('keeps the terminal and the progress across a reload', async () => {
    await page.reload();
    await terminalPanel().getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    const link = page.getByRole('navigation', { name: 'Course' }).getByRole('link', { name: /A logging sidecar/ });
    await expect.poll(() => link.textContent(), { timeout: 15_000 }).toContain('1 of 2 exercises passed'); // logging-sidecar passed; metrics-sidecar not tried
    expect(pageErrors).toEqual([]);
  });

  it('ran the whole journey under the Content-Security-Policy without one refusal, and refuses injected script', async () => {
    // Theme script, terminal and its styles, checks, live changes, the dark theme, a reload: nothing was refused.
    expect(cspViolations).toEqual([]);
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injectedRan = true;';
      document.head.append(script);
      return (window as unknown as { injectedRan?: boolean }).injectedRan === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => cspViolations.join('\n'), { timeout: 10_000 }).toContain('csp-violation: script-src');
  });
});
