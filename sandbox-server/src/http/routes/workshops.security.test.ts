// Workshop routes through app.request() with an in-memory cluster: who may see and do what, and bad input.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { exerciseIds } from '../../../../exercises/registry.ts';
import { appDeps, browserWith, type Json, signedCookie } from '../../../test/app-request.ts';
import { LABELS } from '../../cluster/labels.ts';
import type { Sandbox, SandboxClaimOptions } from '../../sandboxes/sandboxes.ts';
import type { Repository } from '../../store/repository.ts';
import { SqliteRepository } from '../../store/sqlite.ts';
import { type SandboxPort, WorkshopService } from '../../workshops/workshops.ts';
import { createApp } from '../app.ts';
import { SessionSigner } from '../session.ts';

/** Namespaces as a map: enough of Sandboxes for the workshop logic, with label selectors on owner and workshop. */
class FakeSandboxes implements SandboxPort {
  readonly all = new Map<string, Sandbox>();
  #next = 0;

  async provision(owner = '', options: SandboxClaimOptions = {}): Promise<Sandbox> {
    const id = (++this.#next).toString(16).padStart(16, '0');
    const sandbox: Sandbox = {
      id,
      namespace: `sbx-${id}`,
      owner,
      status: 'ready',
      expiresAt: options.expiresAt ?? new Date(Date.now() + 3600_000),
      ...(options.workshop ? { workshop: options.workshop } : {}),
    };
    this.all.set(id, sandbox);
    return sandbox;
  }
  async claimWarm(): Promise<Sandbox | undefined> {
    return undefined;
  }
  async findByOwner(owner: string) {
    return [...this.all.values()].find((s) => s.owner === owner && s.status !== 'deleting');
  }
  async assign(sandbox: Sandbox, change: SandboxClaimOptions) {
    const next = { ...sandbox, ...change } as Sandbox;
    this.all.set(sandbox.id, next);
    return next;
  }
  async list(selector = '') {
    const want = Object.fromEntries(selector.split(',').map((p) => p.split('=') as [string, string]));
    return [...this.all.values()].filter(
      (s) =>
        (!want[LABELS.workshop] || s.workshop === want[LABELS.workshop]) &&
        (!want[LABELS.owner] || s.owner === want[LABELS.owner]),
    );
  }
  async delete(id: string) {
    this.all.delete(id);
  }
  async get(id: string) {
    return this.all.get(id);
  }
}

/** A built site with only the dashboard page in it, as Astro writes it (site/pages/workshops/dashboard.astro). */
const siteDir = mkdtempSync(join(tmpdir(), 'workshop-site-'));
const DASHBOARD_HTML = '<!doctype html><title>Workshop dashboard</title><h1 id="ws-title">Loading…</h1>';
mkdirSync(join(siteDir, 'workshops', 'dashboard'), { recursive: true });
writeFileSync(join(siteDir, 'workshops', 'dashboard', 'index.html'), DASHBOARD_HTML);
const SITE_POLICY = "default-src 'self'; script-src 'self'; frame-ancestors 'none'";

let repo: Repository;
let fake: FakeSandboxes;
let app: ReturnType<typeof createApp>;
const signer = new SessionSigner('x'.repeat(40));

beforeEach(() => {
  repo = new SqliteRepository(':memory:');
  fake = new FakeSandboxes();
  const log = pino({ level: 'silent' });
  const workshops = new WorkshopService(repo, fake, { maxMinutes: 240, maxSandboxes: 30 }, log);
  app = createApp(
    appDeps(repo, signer, {
      sandboxes: { toView: (s: Sandbox) => ({ id: s.id, namespace: s.namespace, status: s.status }) } as never,
      log,
      workshops,
      site: { root: siteDir, contentSecurityPolicy: SITE_POLICY },
    }),
  );
});

/** A browser: keeps its session cookie. */
function browser() {
  const session = signer.newId();
  return { session, ...browserWith(() => app, signedCookie(signer, session)) };
}

async function newWorkshop(capacity = 2, name = 'Sidecars 101') {
  const instructor = browser();
  const created = await instructor.call('POST', '/api/workshops', { name, capacity, duration: '2h' });
  expect(created.status, created.text).toBe(201);
  return created.json as { id: string; code: string; token: string };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('creating a workshop', () => {
  it('returns a readable join code and a token that is stored only as a hash', async () => {
    const w = await newWorkshop();
    expect(w.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(w.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = (await repo.workshop(w.id))!;
    expect(JSON.stringify(stored)).not.toContain(w.token);
    expect(stored.exercises).toEqual(exerciseIds); // a workshop without a list gets every exercise
  });

  it('refuses unknown exercises, silly durations and unknown fields with a message naming them', async () => {
    const b = browser();
    const unknown = await b.call('POST', '/api/workshops', {
      name: 'W',
      capacity: 3,
      duration: '2h',
      exercises: ['x'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain('no exercise x');
    const long = await b.call('POST', '/api/workshops', { name: 'W', capacity: 3, duration: '9h' });
    expect(long.status).toBe(400);
    expect(long.json.error.message).toContain('at most 240 minutes');
    const extra = await b.call('POST', '/api/workshops', { name: 'W', capacity: 3, duration: '2h', admin: 1 });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toContain('admin');
  });
});

describe('joining', () => {
  it('gives each learner a sandbox with the workshop label, and the same one again on a re-join', async () => {
    const w = await newWorkshop();
    const ada = browser();
    const first = await ada.call('POST', '/api/workshops/join', { code: w.code.toLowerCase(), name: ' Ada ' });
    expect(first.status).toBe(201);
    expect(first.json.learner).toEqual({ name: 'Ada' });
    expect(fake.all.get(first.json.sandbox.id)?.workshop).toBe(w.id);
    const again = await ada.call('POST', '/api/workshops/join', { code: w.code, name: 'Someone else' });
    expect(again.status).toBe(200);
    expect(again.json.sandbox.id).toBe(first.json.sandbox.id);
    expect(again.json.learner.name).toBe('Ada');
  });

  it('refuses the learner past capacity, with a clear message and a "full" page', async () => {
    const w = await newWorkshop(2);
    for (const name of ['Ada', 'Grace']) {
      expect((await browser().call('POST', '/api/workshops/join', { code: w.code, name })).status).toBe(201);
    }
    const late = browser();
    const refused = await late.call('POST', '/api/workshops/join', { code: w.code, name: 'Linus' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('workshop_full');
    expect(refused.json.error.message).toContain('this workshop is full');
    const page = await late.call('GET', `/join/${w.code}`);
    expect(page.status).toBe(409);
    expect(page.text).toContain('This workshop is full');
    expect(fake.all.size).toBe(2);
  });

  it('answers an unknown code with 404, on the page and in the API', async () => {
    const b = browser();
    expect((await b.call('GET', '/join/ABCD-EFGH-JKMN')).status).toBe(404);
    const api = await b.call('POST', '/api/workshops/join', { code: 'ABCD-EFGH-JKMN', name: 'Ada' });
    expect(api.status).toBe(404);
    expect((await b.call('POST', '/api/workshops/join', { code: 'ABCD', name: '\u202Eevil' })).status).toBe(400);
  });

  it('rate-limits join attempts per session, and wrong codes per address', async () => {
    const w = await newWorkshop(50);
    const b = browser();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await b.call('GET', `/join/${w.code}`)).status);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses[20]).toBe(429);

    // Good codes do not count against an address; wrong ones do, from fresh sessions too.
    for (let i = 0; i < 5; i++) expect((await browser().call('GET', `/join/${w.code}`)).status).toBe(200);
    const guesses: number[] = [];
    for (let i = 0; i < 101; i++) guesses.push((await browser().call('GET', '/join/ABCD-EFGH-JKM0')).status);
    expect(guesses.slice(0, 100).every((s) => s === 404)).toBe(true);
    expect(guesses[100]).toBe(429);
    // Then the address waits, even with the right code: otherwise a 200 among the 429s would tell a guesser it hit.
    const locked = await browser().call('POST', '/api/workshops/join', { code: w.code, name: 'Ada' });
    expect(locked.status).toBe(429);
    expect(locked.json.error.message).toContain('unknown join codes');
  });
});

describe('what learners can see', () => {
  it("never another learner's name or progress, nor the code's token", async () => {
    const w = await newWorkshop(3);
    const ada = browser();
    const grace = browser();
    await ada.call('POST', '/api/workshops/join', { code: w.code, name: 'Ada' });
    const joined = await grace.call('POST', '/api/workshops/join', { code: w.code, name: 'Grace' });
    await repo.recordCheck({
      session: ada.session,
      sandbox: 'x',
      exercise: 'first-sidecar',
      status: 'pass',
      report: '{}',
    });

    const seen = [
      joined.text,
      (await grace.call('GET', '/api/workshops/me')).text,
      (await grace.call('GET', `/join/${w.code}`)).text,
      (await grace.call('GET', `/workshops/${w.id}/dashboard`)).text,
      (await grace.call('GET', '/api/progress')).text,
    ].join('\n');
    expect(seen).not.toContain('Ada');
    expect(seen).not.toContain(w.token);
    expect(seen).not.toContain((await repo.workshop(w.id))!.tokenHash);
    expect(seen).not.toContain('exercisesPassed":["first-sidecar'); // Ada's pass is not Grace's
    const me = (await grace.call('GET', '/api/workshops/me')).json;
    expect(me.learner.name).toBe('Grace');
    expect(Object.keys(me)).toEqual(['workshop', 'learner', 'sandbox']);
  });

  it('learner-chosen names are escaped on the pages and defused in the CSV', async () => {
    const w = await newWorkshop(3, '<img src=x onerror=alert(1)>');
    const page = await browser().call('GET', `/join/${w.code}`);
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-[^']+'/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");

    await browser().call('POST', '/api/workshops/join', { code: w.code, name: '=cmd|"/c calc"!A1' });
    const csv = await browser().call('GET', `/api/workshops/${w.id}/export.csv`, undefined, bearer(w.token));
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(`"'=cmd|""/c calc""!A1",first-sidecar,false,0,`);
  });
});

describe('the dashboard page', () => {
  it("is the site's page, holding no data, sent with the site's policy, no caching and no referrer at all", async () => {
    const w = await newWorkshop();
    await browser().call('POST', '/api/workshops/join', { code: w.code, name: 'Ada' });
    const page = await browser().call('GET', `/workshops/${w.id}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toBe(DASHBOARD_HTML); // the same bytes for everyone: no name, no code, no token
    expect(page.headers.get('content-security-policy')).toBe(SITE_POLICY);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers an unknown workshop with the 404 page, and a server without a built site with a 503 page', async () => {
    const unknown = await browser().call('GET', '/workshops/ffffffffffffffff/dashboard');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('No such workshop');
    expect(unknown.text).not.toContain('ws-title');

    const log = pino({ level: 'silent' });
    const bare = createApp(
      appDeps(repo, signer, {
        log,
        workshops: new WorkshopService(repo, fake, { maxMinutes: 240, maxSandboxes: 30 }, log),
        site: { root: mkdtempSync(join(tmpdir(), 'no-site-')) },
      }),
    );
    const w = await newWorkshop();
    const missing = await bare.request(`/workshops/${w.id}/dashboard`);
    expect(missing.status).toBe(503);
    expect(await missing.text()).toContain('The dashboard is not available');
  });
});

describe('the instructor API', () => {
  it('needs the right token: none, a wrong one, another workshop’s or an unknown id all get the same 401', async () => {
    const w = await newWorkshop();
    const other = await newWorkshop();
    const b = browser();
    const paths: Array<[string, string]> = [
      ['GET', `/api/workshops/${w.id}`],
      ['POST', `/api/workshops/${w.id}/tickets`],
      ['POST', `/api/workshops/${w.id}/extend`],
      ['POST', `/api/workshops/${w.id}/end`],
      ['POST', `/api/workshops/${w.id}/learners/0123456789abcdef/reset`],
      ['GET', `/api/workshops/${w.id}/export.csv`],
      ['GET', `/api/workshops/${w.id}/export.json`],
    ];
    const refusals = [
      {}, // no header
      bearer('nope'), // a wrong token
      bearer(other.token), // another workshop's
      { authorization: w.token }, // no scheme
      { authorization: `Basic ${w.token}` }, // another scheme
      bearer(`${w.token}!`), // not a token68 string (bearerAuth's own 400 case)
      bearer(`${w.token} ${w.token}`),
      { authorization: 'Bearer' },
    ];
    for (const [method, path] of paths) {
      for (const headers of refusals) {
        const r = await b.call(method, path, method === 'POST' ? {} : undefined, headers);
        const what = `${method} ${path} ${JSON.stringify(headers)}`;
        expect(r.status, what).toBe(401);
        expect(r.json.error, what).toEqual({
          code: 'unauthorized',
          message: "this needs the workshop's instructor token (Authorization: Bearer …)",
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        });
        expect(r.headers.get('www-authenticate'), what).toMatch(/^Bearer /);
      }
    }
    const unknown = await b.call('GET', '/api/workshops/ffffffffffffffff', undefined, bearer(w.token));
    expect(unknown.status).toBe(401);
    expect((await repo.workshop(w.id))?.endedAt).toBeUndefined();
    expect((await b.call('GET', `/api/workshops/${w.id}`, undefined, bearer(w.token))).status).toBe(200);
    // The right token passes every route's guard (a POST without a body included): what follows is the route's answer.
    const answers = [];
    for (const [method, path] of paths) answers.push((await b.call(method, path, undefined, bearer(w.token))).status);
    // (`end` comes before `reset`: resetting in an ended workshop is 410.)
    expect(answers).toEqual([200, 201, 200, 200, 410, 200, 200]);
  });

  it('opens the event stream only with a fresh ticket for that workshop', async () => {
    const w = await newWorkshop();
    const other = await newWorkshop();
    const b = browser();
    expect((await b.call('GET', `/api/workshops/${w.id}/events`)).status).toBe(401);
    expect((await b.call('GET', `/api/workshops/${w.id}/events?ticket=${w.token}`)).status).toBe(401);
    const theirs = (await b.call('POST', `/api/workshops/${other.id}/tickets`, {}, bearer(other.token))).json;
    expect((await b.call('GET', `/api/workshops/${w.id}/events?ticket=${theirs.ticket}`)).status).toBe(401);

    const mine = (await b.call('POST', `/api/workshops/${w.id}/tickets`, {}, bearer(w.token))).json;
    const controller = new AbortController();
    const response = await app.request(`/api/workshops/${w.id}/events?ticket=${mine.ticket}`, {
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: state');
    expect(first).toContain('"learners":[]');
    controller.abort();
    await reader.cancel();
  });

  it('extends, resets and ends; an ended workshop keeps its grid and refuses new learners', async () => {
    const w = await newWorkshop(3);
    const ada = browser();
    const joined = (await ada.call('POST', '/api/workshops/join', { code: w.code, name: 'Ada' })).json;
    const auth = bearer(w.token);
    const before = (await ada.call('GET', `/api/workshops/${w.id}`, undefined, auth)).json;
    const learnerId = before.learners[0].id;

    const extended = await ada.call('POST', `/api/workshops/${w.id}/extend`, { minutes: 30 }, auth);
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.json.state.endsAt) - Date.parse(before.endsAt)).toBe(30 * 60_000);
    expect(fake.all.get(joined.sandbox.id)?.expiresAt.toISOString()).toBe(extended.json.state.endsAt);

    const one = await ada.call('POST', `/api/workshops/${w.id}/extend`, { minutes: 10, learner: learnerId }, auth);
    expect(Date.parse(one.json.state.learners[0].deadline) - Date.parse(extended.json.state.endsAt)).toBe(600_000);
    const capped = await ada.call('POST', `/api/workshops/${w.id}/extend`, { minutes: 240 }, auth);
    expect(capped.status).toBe(200);
    const refused = await ada.call('POST', `/api/workshops/${w.id}/extend`, { minutes: 5 }, auth);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('at most 240 minutes');

    const reset = await ada.call('POST', `/api/workshops/${w.id}/learners/${learnerId}/reset`, {}, auth);
    expect(reset.status).toBe(200);
    expect(reset.json.sandbox.id).not.toBe(joined.sandbox.id);
    expect(fake.all.has(joined.sandbox.id)).toBe(false);
    expect(fake.all.get(reset.json.sandbox.id)?.workshop).toBe(w.id);

    const ended = await ada.call('POST', `/api/workshops/${w.id}/end`, {}, auth);
    expect(ended.json).toMatchObject({ deleted: 1, state: { status: 'ended' } });
    expect(fake.all.size).toBe(0);
    expect(ended.json.state.learners.map((l: Json) => l.name)).toEqual(['Ada']);
    const late = await browser().call('POST', '/api/workshops/join', { code: w.code, name: 'Late' });
    expect(late.status).toBe(410);
    expect(late.json.error.code).toBe('workshop_ended');
    expect((await ada.call('POST', `/api/workshops/${w.id}/learners/${learnerId}/reset`, {}, auth)).status).toBe(410);
  });
});
