// The in-page editor in a real browser against the real server and cluster: open the lesson's file, see the
// cluster's own words for a misspelt field on its line as it is typed, fix it, save, apply it in the toolbox as the
// terminal would, and take back a change the terminal made.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHROMIUM } from '../support/e2e-global-setup.ts';
import { kubectl, kubectlRaw } from '../support/kubectl.ts';

const SHOTS = join('test-results', 'screenshots');
const SEED = readFileSync('lessons/manifests/seed-nginx-with-sidecar.yaml', 'utf8');
const FILE = 'sidecar-pod.yaml';

let browser: Browser;
let page: Page;
let sandbox: { id: string; namespace: string };
const pageErrors: string[] = [];

const inToolbox = (script: string) =>
  kubectl(['-n', sandbox.namespace, 'exec', 'toolbox', '-c', 'shell', '--', 'bash', '-lc', script]);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: inject('e2eBaseUrl') });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto('/lessons/pod-structure/');
  sandbox = await page.evaluate(
    async ([path, content]) => {
      const made = await (
        await fetch('/api/sandboxes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      ).json();
      localStorage.setItem('sidecar-lab:sandbox-id', made.id);
      await fetch(`/api/sandboxes/${made.id}/files`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path, content }),
      });
      return made;
    },
    [FILE, SEED] as const,
  );
  await page.reload();
}, 240_000);

afterAll(async () => {
  if (sandbox) await kubectlRaw(['delete', 'namespace', sandbox.namespace, '--wait=false']);
  await browser?.close();
});

const block = () => page.getByRole('region', { name: `Editor for ~/${FILE}` });
const editor = () => block().getByRole('textbox', { name: `Contents of ~/${FILE}` });
const status = (text: string) => block().getByRole('status').filter({ hasText: text });
const problemItems = () => block().getByRole('list', { name: 'Problems the cluster found' }).getByRole('listitem');
/** The editor's text as CodeMirror shows it, line by line (the file is short: every line is drawn). */
const text = () =>
  block()
    .locator('.cm-content')
    .evaluate((content) => [...content.querySelectorAll('.cm-line')].map((line) => line.textContent).join('\n'));
const line = (exact: string) =>
  block()
    .locator('.cm-line')
    .filter({ hasText: new RegExp(`^${exact}$`) });

describe('the in-page editor', () => {
  it('opens the file from the keyboard, loading its code only then', async () => {
    expect(await page.locator('.cm-editor').count()).toBe(0);
    expect(
      await page.evaluate(() =>
        performance.getEntriesByType('resource').some((r) => /\/editor\.[\w-]+\.js$/.test(r.name)),
      ),
    ).toBe(false);
    await block().getByRole('button', { name: 'Open in editor' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(text, { timeout: 30_000 }).toBe(SEED);
    await status('The cluster accepts it').waitFor({ timeout: 30_000 });
    // YAML is highlighted: keys and values are drawn apart.
    expect(await block().locator('.cm-line span').count()).toBeGreaterThan(10);
  });

  it("underlines a misspelt field as it is typed, in the cluster's words, and lists it as text", async () => {
    await line('spec:').click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('restartpolicy');
    await page.keyboard.press('Escape'); // close the completion, whose nearest field is restartPolicy
    await page.keyboard.type(': Never');
    expect(await text()).toBe(SEED.replace('spec:\n', 'spec:\n  restartpolicy: Never\n'));
    const underline = block().locator('.cm-lintRange-error');
    await underline.filter({ hasText: 'restartpolicy: Never' }).waitFor({ timeout: 30_000 });
    await problemItems().filter({ hasText: 'Line 6: unknown field "spec.restartpolicy"' }).waitFor();
    expect(await editor().getAttribute('aria-invalid')).toBe('true');
    expect(await editor().getAttribute('aria-describedby')).toBe(
      await problemItems().first().locator('xpath=..').getAttribute('id'),
    );
    await underline.hover();
    const tooltip = page.locator('.cm-tooltip-lint');
    await tooltip.waitFor();
    expect(await tooltip.textContent()).toContain('unknown field "spec.restartpolicy"');
    await block().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'editor-unknown-field.png') });
    // The same in the dark theme: the course's colours, through its CSS variables.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'editor-unknown-field-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    // What a screen reader meets: the named text box, the buttons, and the problems as a list of text.
    const tree = await block().ariaSnapshot();
    expect(tree).toContain(`textbox "Contents of ~/${FILE}"`);
    expect(tree).toMatch(/list "Problems the cluster found":\s*- listitem: "?Line 6: unknown field/);
    expect(tree).toContain('button "Save"');
  });

  it("completes field names and values from the cluster's schema, with their descriptions", async () => {
    await line('  restartpolicy: Never').click();
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('restartP');
    const options = page.getByRole('listbox').getByRole('option');
    await options.filter({ hasText: 'restartPolicy' }).first().waitFor({ timeout: 30_000 });
    expect(await options.first().textContent()).toContain('restartPolicy');
    await page.locator('.cm-completionInfo').filter({ hasText: 'Restart policy for all containers' }).waitFor();
    await block().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'editor-completion.png') });
    await page.keyboard.press('Enter');
    // Its value, from the values the schema allows.
    await page.keyboard.type('Nev');
    await options.filter({ hasText: 'Never' }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');
    expect(await text()).toBe(SEED.replace('spec:\n', 'spec:\n  restartPolicy: Never\n'));
    await status('The cluster accepts it').waitFor({ timeout: 30_000 });
    expect(await problemItems().count()).toBe(0);
    expect(await block().locator('.cm-lintRange-error').count()).toBe(0);
    // Inside a container, the container's own fields are offered.
    await line('    image: nginx:1.26').click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('ima');
    await options.filter({ hasText: 'imagePullPolicy' }).first().waitFor({ timeout: 30_000 });
    // The container has its image already: that field is not offered again.
    const labels = await page.locator('.cm-tooltip-autocomplete .cm-completionLabel').allTextContents();
    expect(labels).toContain('imagePullPolicy');
    expect(labels).not.toContain('image');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+K'); // delete the line again
    expect(await text()).toBe(SEED.replace('spec:\n', 'spec:\n  restartPolicy: Never\n'));
  });

  it('saves into the home folder, where kubectl apply in the toolbox sees the change', async () => {
    await block().getByRole('button', { name: 'Save' }).click();
    await status(`Saved ~/${FILE}`).waitFor();
    expect(await inToolbox(`kubectl apply -f ${FILE}`)).toContain('pod/nginx-with-sidecar created');
    const policy = await kubectl([
      '-n',
      sandbox.namespace,
      'get',
      'pod',
      'nginx-with-sidecar',
      '-o',
      'jsonpath={.spec.restartPolicy}',
    ]);
    expect(policy).toBe('Never');
  });

  it('offers a change made in the terminal for reload', async () => {
    await inToolbox(`sed -i 's/sleep 10/sleep 5/' ${FILE}`);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await editor().focus();
    await status(`~/${FILE} was changed in the sandbox`).waitFor({ timeout: 30_000 });
    await block().getByRole('button', { name: 'Reload from the sandbox' }).click();
    expect(await text()).toContain('sleep 5;');
    await status(`Reloaded ~/${FILE}`).waitFor();
  });

  it('lets the keyboard indent with Tab, and leave with Escape then Tab', async () => {
    await line('kind: Pod').click();
    await page.keyboard.press('Home');
    await page.keyboard.press('Tab');
    expect(await text()).toContain('\n  kind: Pod\n');
    expect(await editor().evaluate((content) => content.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Shift+Tab');
    expect(await text()).toContain('\nkind: Pod\n');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    expect(await editor().evaluate((content) => content.contains(document.activeElement))).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});
