// Two server replicas on one PostgreSQL database behind a TCP front that sends each connection to the first replica
// alive, as a Service does: a learner works in the terminal through replica A; A is killed; the page reconnects on
// its own, through B, to the same tmux screen, with the same sandbox and progress.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import {
  type ChildServer,
  deleteInstanceNamespaces,
  startChildServer,
  testInstance,
} from '../../sandbox-server/test/harness.ts';
import { endSandbox, launchChromium, recordPanelStates } from '../support/e2e-browser.ts';
import { type FailoverProxy, failoverProxy } from '../support/failover-proxy.ts';
import { freshDatabase } from '../support/store-backends.ts';

const instance = testInstance();
const replicas: ChildServer[] = [];
let front: FailoverProxy;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const databaseUrl = await freshDatabase();
  // Start both, then learn the front's port: the replicas must allow the page's origin, so the front comes first.
  const ports = [0, 0];
  front = await failoverProxy(ports);
  const origin = `http://127.0.0.1:${front.port}`;
  for (let i = 0; i < 2; i++) {
    const replica = await startChildServer(
      {
        SIDECAR_LAB_DATABASE_URL: databaseUrl,
        SIDECAR_LAB_INSTANCE: instance,
        SIDECAR_LAB_POOL_SIZE: '0',
        SIDECAR_LAB_SITE_DIR: inject('e2eSiteDir'),
        SIDECAR_LAB_ALLOWED_ORIGINS: origin,
      },
      mkdtempSync(join(tmpdir(), 'slab-e2e-replica-')),
    );
    replicas.push(replica);
    ports[i] = Number(new URL(replica.url).port);
  }
  browser = await launchChromium();
  page = await (await browser.newContext({ baseURL: origin, viewport: { width: 1440, height: 900 } })).newPage();
});

afterAll(async () => {
  await endSandbox(page);
  await browser?.close();
  await front?.close();
  for (const replica of replicas) await replica.kill('SIGKILL');
  await deleteInstanceNamespaces(instance);
});

const panel = () => page.getByRole('complementary', { name: 'Terminal' });
const terminalText = async () => (await page.locator('.xterm-rows').textContent()) ?? '';
const waitForTerminal = (text: string) =>
  expect.poll(terminalText, { timeout: 120_000, interval: 250 }).toContain(text);

it('reconnects the terminal through B to the same screen when A dies, with the sandbox and progress intact', async () => {
  const [a] = replicas as [ChildServer, ChildServer];
  await page.goto('/lessons/introduction/');
  await panel().getByRole('button', { name: 'Start sandbox' }).click();
  await panel().getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 120_000 });
  await page.locator('.xterm').click();
  await page.keyboard.type('echo typed-before-$((40+2))\n');
  await waitForTerminal('typed-before-42');
  const sandboxId = await page.evaluate(() => localStorage.getItem('sidecar-lab:sandbox-id'));
  const progressBefore = await page.evaluate(async () => (await fetch('/api/progress')).json());

  // Every state the panel goes through from here on, to see it leave "connected" and come back.
  const states = await recordPanelStates(page);
  const killedAt = Date.now();
  await a.kill('SIGKILL');
  await expect.poll(states, { timeout: 120_000, interval: 100 }).toContain('reconnecting');
  await expect.poll(async () => (await states()).at(-1), { timeout: 120_000, interval: 100 }).toBe('connected');
  await page.locator('.xterm').click();
  await page.keyboard.type('echo typed-after-$((40+2))\n');
  await waitForTerminal('typed-after-42');
  const answeredAfterMs = Date.now() - killedAt;

  // tmux kept the screen: what was typed through A is still there, under what was typed through B.
  expect(await terminalText()).toContain('typed-before-42');
  expect(await page.evaluate(() => localStorage.getItem('sidecar-lab:sandbox-id'))).toBe(sandboxId);
  const found = await page.evaluate(async (id) => (await fetch(`/api/sandboxes/${id}`)).status, sandboxId);
  expect(found).toBe(200);
  expect(await page.evaluate(async () => (await fetch('/api/progress')).json())).toEqual(progressBefore);

  // A measurement for the closing note and README, not a bound: from SIGKILL to the shell answering through B.
  mkdirSync('test-results', { recursive: true });
  writeFileSync(join('test-results', 'replica-failover.json'), `${JSON.stringify({ answeredAfterMs }, null, 2)}\n`);
  await page.screenshot({ path: join('test-results', 'screenshots', 'replica-failover.png') });
});
