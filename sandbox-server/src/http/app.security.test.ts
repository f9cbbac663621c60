// Hardening of the sandbox API through app.request() (no cluster): each test states the attack and the exact outcome.

import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { appDeps, browserWith, signedCookie } from '../../test/app-request.ts';
import type { KubeConfig } from '../cluster/kubeconfig-file.ts';
import { CheckService } from '../sandboxes/checks.ts';
import { newSandboxId, ownerHash, type Sandbox } from '../sandboxes/sandboxes.ts';
import { SqliteRepository } from '../store/sqlite.ts';
import { WorkshopService } from '../workshops/workshops.ts';
import { createApp } from './app.ts';
import { DEFAULT_PROBE_BUDGET, ProbeLimiter } from './probe-limit.ts';
import { SESSION_COOKIE, SessionSigner } from './session.ts';

/** The few Sandboxes methods the sandbox routes call, over a map; counts lookups (each one a read from the API). */
class FakeSandboxes {
  readonly byId = new Map<string, Sandbox>();
  lookups = 0;
  async get(id: string) {
    this.lookups++;
    return this.byId.get(id);
  }
  toView(s: Sandbox) {
    return { id: s.id, namespace: s.namespace, status: s.status, expiresAt: s.expiresAt.toISOString() };
  }
  async extend(s: Sandbox, minutes: number) {
    const extended = { ...s, expiresAt: new Date(s.expiresAt.getTime() + minutes * 60_000) };
    this.byId.set(s.id, extended);
    return extended;
  }
}

const signer = new SessionSigner('s'.repeat(40));
let fake: FakeSandboxes;
let app: ReturnType<typeof createApp>;

beforeEach(() => {
  fake = new FakeSandboxes();
  const repo = new SqliteRepository(':memory:');
  // Nothing here may reach the cluster: a route that tried would fail with 500, not the asserted status.
  app = createApp(
    appDeps(repo, signer, {
      sandboxes: fake as never,
      checks: new CheckService({} as KubeConfig, repo),
      workshops: new WorkshopService(
        repo,
        {} as never,
        { maxMinutes: 240, maxSandboxes: 30 },
        pino({ level: 'silent' }),
      ),
      probes: new ProbeLimiter({ counters: repo }),
    }),
  );
});

/** A browser with a signed session; `cookie: null` sends none (a fresh session every request). */
const browser = (cookie: string | null = signedCookie(signer)) => browserWith(() => app, cookie);

/** A ready sandbox owned by the browser's session. */
function sandboxOf(owner: ReturnType<typeof browser>): Sandbox {
  const session = signer.verify(owner.cookie!.slice(SESSION_COOKIE.length + 1))!;
  const id = newSandboxId();
  const sandbox: Sandbox = {
    id,
    namespace: `sbx-${id}`,
    owner: ownerHash(session),
    status: 'ready',
    expiresAt: new Date(Date.now() + 3600_000),
  };
  fake.byId.set(id, sandbox);
  return sandbox;
}

const EVERY_SANDBOX_ROUTE: ReadonlyArray<[string, (id: string) => string, object?]> = [
  ['GET', (id) => `/api/sandboxes/${id}`],
  ['DELETE', (id) => `/api/sandboxes/${id}`],
  ['POST', (id) => `/api/sandboxes/${id}/extend`, {}],
  ['POST', (id) => `/api/sandboxes/${id}/files`, { path: 'a.yaml', content: 'x' }],
  ['GET', (id) => `/api/sandboxes/${id}/changes`],
  ['POST', (id) => `/api/sandboxes/${id}/exercises/first-sidecar/setup`, {}],
  ['POST', (id) => `/api/sandboxes/${id}/checks/first-sidecar`, {}],
];

describe("WEB-4: another learner's sandbox", () => {
  it('every route answers 404 "no such sandbox", exactly as for an id that does not exist', async () => {
    const victim = sandboxOf(browser());
    const attacker = browser();
    for (const [method, path, body] of EVERY_SANDBOX_ROUTE) {
      const theirs = await attacker.call(method, path(victim.id), body);
      const missing = await attacker.call(method, path('0123456789abcdef'), body);
      expect(theirs.status, `${method} ${path(victim.id)}`).toBe(404);
      expect(theirs.json.error.message).toBe('no such sandbox');
      expect({ ...theirs.json.error, requestId: '' }).toEqual({ ...missing.json.error, requestId: '' });
    }
  });

  it('sandbox ids carry 64 random bits and session ids 128', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newSandboxId));
    expect(ids.size).toBe(10_000);
    for (const id of [...ids].slice(0, 100)) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(signer.newId(), 'base64url')).toHaveLength(16);
  });

  it('10,000 guesses from fresh cookies: the address budget stops them with 429 and Retry-After', async () => {
    const guesser = browser(null);
    const statuses = new Map<number, number>();
    let retryAfter = '';
    for (let i = 0; i < 10_000; i++) {
      const guess = await guesser.call('GET', `/api/sandboxes/${newSandboxId()}`);
      statuses.set(guess.status, (statuses.get(guess.status) ?? 0) + 1);
      if (guess.status === 429) {
        retryAfter = guess.headers.get('retry-after') ?? '';
        expect(guess.json.error).toMatchObject({ code: 'rate_limited' });
      }
    }
    const budget = DEFAULT_PROBE_BUDGET.perAddress;
    expect(Object.fromEntries(statuses)).toEqual({ 404: budget, 429: 10_000 - budget });
    // Past the budget nothing reaches the API server: one lookup per allowed guess.
    expect(fake.lookups).toBe(budget);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(DEFAULT_PROBE_BUDGET.addressWindowMs / 1000);
  }, 30_000);

  it('one session gets 20 misses a minute; then even its own sandbox waits (429), others are unaffected', async () => {
    const prober = browser();
    const own = sandboxOf(prober);
    for (let i = 0; i < DEFAULT_PROBE_BUDGET.perSession; i++) {
      expect((await prober.call('GET', `/api/sandboxes/${newSandboxId()}`)).status).toBe(404);
    }
    const stopped = await prober.call('POST', `/api/sandboxes/${newSandboxId()}/checks/first-sidecar`, {});
    expect(stopped.status).toBe(429);
    expect(stopped.json.error.message).toMatch(/^too many requests for sandboxes that do not exist; wait \d+ s$/);
    expect(Number(stopped.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await prober.call('GET', `/api/sandboxes/${own.id}`)).status).toBe(429);
    const neighbour = browser();
    const theirs = sandboxOf(neighbour);
    expect((await neighbour.call('GET', `/api/sandboxes/${theirs.id}`)).status).toBe(200);
  });
});

/** Ids an attacker puts in a URL segment, as sent (already percent-encoded where it matters). */
const HOSTILE_SEGMENTS = [
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f',
  '..%2f',
  '..%5c..%5cwindows',
  '%252e%252e%252f',
  '%00',
  'first-sidecar%00.ts',
  'First-Sidecar',
  'x'.repeat(500),
];

describe('WEB-5: hostile ids in every route that takes one', () => {
  it('exercise ids are refused with 400 and a message naming the expected form, before any lookup', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    for (const segment of HOSTILE_SEGMENTS) {
      for (const [method, path] of [
        ['GET', `/api/exercises/${segment}`],
        ['POST', `/api/sandboxes/${own.id}/exercises/${segment}/setup`],
        ['POST', `/api/sandboxes/${own.id}/checks/${segment}`],
      ] as const) {
        const response = await learner.call(method, path, method === 'POST' ? {} : undefined);
        expect(response.status, `${method} ${path}`).toBe(400);
        expect(response.json.error).toMatchObject({
          code: 'bad_request',
          message: 'path: exerciseId: an exercise id such as "logging-sidecar"',
        });
      }
    }
    expect(fake.lookups).toBe(0);
  });

  it('a check says manual or auto and nothing else: another trigger is 400 before any lookup', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    for (const trigger of ['robot', 'MANUAL', '', 1, null]) {
      const response = await learner.call('POST', `/api/sandboxes/${own.id}/checks/first-sidecar`, { trigger });
      expect(response.status, String(trigger)).toBe(400);
      expect(response.json.error.message).toMatch(/^body: trigger: /);
    }
    expect(fake.lookups).toBe(0);
  });

  it('a well-formed but unknown exercise id is 404 with a plain message', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    const unknown = await learner.call('GET', '/api/exercises/etc-passwd');
    expect([unknown.status, unknown.json.error.message]).toEqual([404, 'no such exercise']);
    const setup = await learner.call('POST', `/api/sandboxes/${own.id}/exercises/etc-passwd/setup`, {});
    expect([setup.status, setup.json.error.message]).toEqual([404, 'no exercise "etc-passwd"']);
  });

  it('a literal "../" in the URL is resolved away by the URL parser and lands on no route (404)', async () => {
    const learner = browser();
    for (const path of ['/api/exercises/../../etc/passwd', '/api/exercises/%2e%2e', '/api/sandboxes/x/../../../etc']) {
      const response = await learner.call('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.json.error.code).toBe('not_found');
    }
  });

  it('lesson ids are refused with 400 and nothing is recorded; hostile sandbox ids get 404 (overlong: 400)', async () => {
    const learner = browser();
    for (const segment of HOSTILE_SEGMENTS) {
      const lesson = await learner.call('POST', `/api/progress/lessons/${segment}`);
      expect(lesson.status, segment).toBe(400);
      expect(lesson.json.error.message).toBe('path: lesson: a lesson id such as "logging-sidecar"');
      const sandbox = await learner.call('GET', `/api/sandboxes/${segment}`);
      expect(sandbox.status, segment).toBe(segment.length > 64 ? 400 : 404);
    }
    expect((await learner.call('GET', '/api/progress')).json).toMatchObject({ lessonsRead: [] });
  });

  it('workshop codes and ids: unknown codes are 404, overlong ones 400, instructor routes 401', async () => {
    const learner = browser();
    for (const segment of HOSTILE_SEGMENTS) {
      expect((await learner.call('GET', `/join/${segment}`)).status, segment).toBe(404);
      const api = await learner.call('GET', `/api/workshops/${segment}`, undefined, { authorization: 'Bearer x' });
      expect(api.status, segment).toBe(segment.length > 64 ? 400 : 401);
    }
    for (const code of ['../../etc/passwd', '\u0000', 'ABCD-EFGH-JKLM\u0000']) {
      const join = await learner.call('POST', '/api/workshops/join', { code, name: 'Eve' });
      expect([join.status, join.json.error.message], JSON.stringify(code)).toEqual([
        404,
        'no workshop has this join code; check it with your instructor',
      ]);
    }
    const long = await learner.call('POST', '/api/workshops/join', { code: 'A'.repeat(41), name: 'Eve' });
    expect(long.status).toBe(400);
  });

  it('CreateFile paths that leave the home folder are refused with 400 before anything is written', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    for (const path of [
      '../x',
      'pods/../../x',
      '..',
      '.',
      './.',
      'a/./b',
      '/etc/passwd',
      '//etc/passwd',
      '~/x',
      'a\u0000b',
      'a\\..\\b',
      'pods/',
      '',
      `${'d/'.repeat(100)}x`,
    ]) {
      const response = await learner.call('POST', `/api/sandboxes/${own.id}/files`, { path, content: 'x' });
      expect(response.status, JSON.stringify(path)).toBe(400);
      expect(response.json.error.message, JSON.stringify(path)).toMatch(/^body: path: /);
    }
  });
});

describe('WEB-6: bodies that are not what they claim', () => {
  it('malformed JSON, a prototype-polluting key and deep nesting are 400 with a plain message', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    for (const raw of ['{', '{"path": "a.yaml",', "{'single': 1}", '\u0000', '[1,]']) {
      const response = await learner.call('POST', `/api/sandboxes/${own.id}/files`, raw);
      expect(response.status, raw).toBe(400);
      expect(response.json.error).toMatchObject({ code: 'bad_request' });
      // The parser's own complaint is named, e.g. "… not valid JSON: Unexpected end of JSON input".
      expect(response.json.error.message, raw).toMatch(/^the request body is not valid JSON: \S/);
    }
    const polluting = await learner.call('POST', '/api/sandboxes', '{"__proto__": {"admin": true}}');
    expect(polluting.status).toBe(400);
    expect(polluting.json.error.message).toMatch(/^body: .*__proto__/);
    expect(({} as { admin?: boolean }).admin).toBeUndefined();
    const deep = await learner.call(
      'POST',
      `/api/sandboxes/${own.id}/extend`,
      `${'['.repeat(40_000)}${']'.repeat(40_000)}`,
    );
    expect(deep.status).toBe(400);
  });

  it('an empty body means "no options", with or without the JSON content type; the schema still applies', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    const before = own.expiresAt.getTime();
    // A body-less POST as curl sends it with -H 'content-type: application/json': the default of 30 minutes.
    const withType = await learner.call('POST', `/api/sandboxes/${own.id}/extend`);
    expect(withType.status, withType.text).toBe(200);
    expect(Date.parse(withType.json.expiresAt) - before).toBe(30 * 60_000);
    const blank = await learner.call('POST', `/api/sandboxes/${own.id}/extend`, ' \n');
    expect(Date.parse(blank.json.expiresAt) - before).toBe(60 * 60_000);
    const withoutType = await app.request(`/api/sandboxes/${own.id}/extend`, {
      method: 'POST',
      // Without a content type Hono's CSRF guard takes it for a form post: a browser's same-origin POST has an Origin.
      headers: { cookie: learner.cookie!, origin: 'http://lab.test' },
    });
    expect(withoutType.status).toBe(200);
    // An empty body is not a way around required fields.
    const file = await learner.call('POST', `/api/sandboxes/${own.id}/files`);
    expect([file.status, file.json.error.message]).toEqual([400, expect.stringMatching(/^body: path: /)]);
  });

  it('a body that is not declared JSON is 415 in the error shape, never read as "no options"', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      const response = await learner.call('POST', `/api/sandboxes/${own.id}/extend`, '{"minutes": 5}', {
        'content-type': type,
        origin: 'http://lab.test',
      });
      expect(response.status, type).toBe(415);
      expect(response.json.error).toMatchObject({
        code: 'unsupported_media_type',
        message: 'send the body as JSON, with Content-Type: application/json',
      });
    }
    expect(fake.byId.get(own.id)?.expiresAt).toEqual(own.expiresAt);
    // application/<something>+json is JSON too.
    const merge = await learner.call('POST', `/api/sandboxes/${own.id}/extend`, '{"minutes": 5}', {
      'content-type': 'application/merge-patch+json; charset=utf-8',
    });
    expect(merge.status).toBe(200);
  });

  it('query strings are validated too: a repeated ticket is 400 naming the field', async () => {
    const learner = browser();
    const response = await learner.call('GET', '/api/workshops/0123456789abcdef/events?ticket=a&ticket=b');
    expect(response.status).toBe(400);
    expect(response.json.error.message).toMatch(/^query: ticket: /);
  });

  it('a 10 MB body is refused with 413 and a plain message, and the next request is answered', async () => {
    const learner = browser();
    const own = sandboxOf(learner);
    const huge = JSON.stringify({ path: 'big.yaml', content: 'x'.repeat(10 * 1024 * 1024) });
    const refused = await learner.call('POST', `/api/sandboxes/${own.id}/files`, huge);
    expect(refused.status).toBe(413);
    expect(refused.json.error).toMatchObject({
      code: 'payload_too_large',
      message: 'request bodies are limited to 96 KiB',
    });
    expect((await learner.call('GET', `/api/sandboxes/${own.id}`)).status).toBe(200);
  });
});

describe('WEB-3: session fixation', () => {
  it('a forged, unsigned or foreign cookie is replaced by a fresh signed session that owns nothing', async () => {
    const victim = browser();
    const theirs = sandboxOf(victim);
    const victimId = victim.cookie!.split('=')[1]!.split('.')[0]!;
    const foreign = new SessionSigner('f'.repeat(40));
    for (const forged of [
      `${SESSION_COOKIE}=${victimId}`,
      `${SESSION_COOKIE}=${victimId}.${'A'.repeat(43)}`,
      `${SESSION_COOKIE}=${foreign.sign(victimId)}`,
      `${SESSION_COOKIE}=${victimId}.`,
      `${SESSION_COOKIE}=../../etc/passwd`,
    ]) {
      const response = await browser(forged).call('GET', `/api/sandboxes/${theirs.id}`);
      expect(response.status, forged).toBe(404);
      const issued = /^slab_session=([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43};/.exec(
        response.headers.get('set-cookie') ?? '',
      );
      expect(issued, forged).not.toBeNull();
      expect(issued![1]).not.toBe(victimId);
    }
    // A valid cookie is kept as it is: no new cookie on every request.
    const own = await victim.call('GET', `/api/sandboxes/${theirs.id}`);
    expect(own.status).toBe(200);
    expect(own.headers.get('set-cookie')).toBeNull();
  });
});

describe('WEB-9: headers on every answer', () => {
  it('API answers, errors and unknown routes say nosniff, no framing and a same-origin referrer policy', async () => {
    const learner = browser();
    for (const [method, path] of [
      ['GET', '/api/progress'],
      ['GET', '/api/sandboxes/nope'],
      ['GET', '/no/such/route'],
      ['POST', '/api/sandboxes'],
    ] as const) {
      const response = await learner.call(method, path, method === 'POST' ? '{' : undefined);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      expect(response.headers.get('referrer-policy'), path).toBe('same-origin');
    }
  });
});

describe('routes of features this server was built without', () => {
  it('without a sign-in provider: the account says so, and signing out is 404, keeping the session', async () => {
    const learner = browser();
    const account = await learner.call('GET', '/api/account');
    expect(account.status).toBe(200);
    expect(account.json).toEqual({ signInAvailable: false });
    const logout = await learner.call('POST', '/api/logout');
    expect(logout.status).toBe(404);
    expect(logout.json).toMatchObject({
      error: { code: 'not_found', message: 'sign-in is not available on this server' },
    });
    expect(logout.headers.get('set-cookie')).toBeNull();
  });

  it('without saves: every saved-work route is 404 with a message naming why', async () => {
    const learner = browser();
    const sandbox = sandboxOf(learner);
    for (const [method, path, body] of [
      ['GET', '/api/saves/mine', undefined],
      ['GET', '/api/saves/mine.tar.gz', undefined],
      ['DELETE', '/api/saves/mine', undefined],
      ['POST', `/api/sandboxes/${sandbox.id}/save`, '{"stop":true}'],
    ] as const) {
      const response = await learner.call(method, path, body);
      expect(response.status, path).toBe(404);
      expect(response.json, path).toMatchObject({
        error: { code: 'not_found', message: 'this server keeps no saved work' },
      });
    }
    expect(fake.byId.has(sandbox.id)).toBe(true);
  });
});
