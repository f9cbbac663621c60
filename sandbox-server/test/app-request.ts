// Support for tests that drive the Hono app through app.request(): dependencies with no cluster behind them, and a
// browser that sends its session cookie with every request.
import pino from 'pino';
import type { AppDeps, createApp } from '../src/http/app.ts';
import { createMetrics } from '../src/http/metrics.ts';
import { SESSION_COOKIE, type SessionSigner } from '../src/http/session.ts';
import type { Repository } from '../src/store/repository.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields one by one and assert each.
export type Json = any;

/** Every dependency of createApp; the cluster-facing ones are empty, so a route that reached them would fail (500). */
export function appDeps(repo: Repository, signer: SessionSigner, overrides: Partial<AppDeps> = {}): AppDeps {
  return {
    kube: {} as never,
    sandboxes: {} as never,
    pool: {} as never,
    checks: {} as never,
    repo,
    signer,
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
    maxSandboxes: 30,
    createRatePerMinute: 5,
    secureCookies: false,
    allowedOrigins: ['http://lab.test'],
    ...overrides,
  };
}

/** A browser with the given Cookie header (none when null): `call` returns status, JSON (when it is), text, headers. */
export function browserWith(app: () => ReturnType<typeof createApp>, cookie: string | null) {
  return {
    cookie,
    async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const response = await app().request(path, {
        method,
        headers: { ...(cookie ? { cookie } : {}), 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let json: Json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined; // pages and CSV are not JSON; the test reads `text`
      }
      return { status: response.status, json, text, headers: response.headers };
    },
  };
}

/** The Cookie header of a fresh signed session. */
export const signedCookie = (signer: SessionSigner, session = signer.newId()) =>
  `${SESSION_COOKIE}=${signer.sign(session)}`;
