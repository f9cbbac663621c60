// Signing in with an organisation's OpenID Connect provider, in a real browser, against a real provider started here
// (oidc-provider, with its development login pages): the first sign-in keeps what the learner did anonymously, a
// sign-in on another browser continues the same progress, and signing out leaves a fresh anonymous session.
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../sandbox-server/src/server.ts';
import { startTestServer } from '../../sandbox-server/test/harness.ts';
import { launchChromium } from '../support/e2e-browser.ts';
import { freePort } from '../support/e2e-global-setup.ts';

let server: RunningServer;
let issuerServer: Server;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  const [issuerPort, port] = [await freePort(), await freePort()];
  const site = `http://127.0.0.1:${port}`;
  const provider = new Provider(`http://127.0.0.1:${issuerPort}`, {
    clients: [
      {
        client_id: 'sidecar-lab',
        client_secret: 'a-secret-only-this-test-knows',
        redirect_uris: [`${site}/auth/callback`],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], profile: ['name'] },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, name: `Learner ${id}` }) }),
  });
  issuerServer = provider.listen(issuerPort);
  ({ server } = await startTestServer({
    SIDECAR_LAB_SITE_DIR: inject('e2eSiteDir'),
    PORT: String(port),
    SIDECAR_LAB_ALLOWED_ORIGINS: site,
    SIDECAR_LAB_PUBLIC_URL: site,
    SIDECAR_LAB_OIDC_ISSUER: `http://127.0.0.1:${issuerPort}`,
    SIDECAR_LAB_OIDC_CLIENT_ID: 'sidecar-lab',
    SIDECAR_LAB_OIDC_CLIENT_SECRET: 'a-secret-only-this-test-knows',
  }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await new Promise((resolve) => issuerServer?.close(resolve));
});

async function newBrowserPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

const progressOf = (page: Page) => page.evaluate(async () => (await fetch('/api/progress')).json());

/** Through the provider's own pages: any login, any password, then consent. */
async function signIn(page: Page, login: string): Promise<void> {
  await page.goto('/resume/');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL('**/resume/');
  await expect.poll(() => page.locator('[data-account-status]').textContent()).toBe(`Signed in as Learner ${login}.`);
}

it('keeps a learner’s progress with their account across browsers, and signs out to a fresh session', async () => {
  const laptop = await newBrowserPage();
  await laptop.goto('/');
  await laptop.evaluate(() => fetch('/api/progress/lessons/introduction', { method: 'POST' }));
  const before = await progressOf(laptop);
  await signIn(laptop, 'ada');
  // The first sign-in binds the account to this browser's session: what Ada did before signing in is still hers.
  expect(await progressOf(laptop)).toEqual(before);

  const phone = await newBrowserPage();
  await phone.goto('/');
  expect(await progressOf(phone)).not.toEqual(before);
  await signIn(phone, 'ada');
  expect(await progressOf(phone)).toEqual(before);

  await phone.getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => phone.locator('[data-account-status]').textContent()).toBe('You are not signed in.');
  expect(await progressOf(phone)).not.toEqual(before);

  // Another person is another account, with progress of their own.
  const other = await newBrowserPage();
  await signIn(other, 'grace');
  expect(await progressOf(other)).not.toEqual(before);
  expect(pageErrors).toEqual([]);
});

it('refuses a callback that no sign-in started here', async () => {
  const response = await fetch(`${server.url}/auth/callback?code=forged&state=forged`);
  expect(response.status).toBe(400);
  expect((await response.json()).error.message).toMatch(/sign in again/);
});
