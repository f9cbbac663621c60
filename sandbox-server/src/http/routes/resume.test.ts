// Resume codes through app.request() with a real database: another browser gets the same session, old and revoked
// codes stop working, bad input is refused, and wrong guesses are capped.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { appDeps, browserWith, signedCookie } from '../../../test/app-request.ts';
import type { Repository } from '../../store/repository.ts';
import { SqliteRepository } from '../../store/sqlite.ts';
import { createApp } from '../app.ts';
import { SESSION_COOKIE, SessionSigner } from '../session.ts';

const signer = new SessionSigner('r'.repeat(40));
let repo: Repository;
let app: ReturnType<typeof createApp>;

beforeEach(() => {
  repo = new SqliteRepository(join(mkdtempSync(join(tmpdir(), 'slab-resume-')), 'db.sqlite'));
  app = createApp(appDeps(repo, signer));
});

const sessionOf = (headers: Headers) =>
  signer.verify(/slab_session=([^;]+)/.exec(headers.get('set-cookie') ?? '')?.[1] ?? undefined);

describe('resume codes', () => {
  it('give another browser the same session, so progress follows the learner', async () => {
    const home = signer.newId();
    const laptop = browserWith(() => app, signedCookie(signer, home));
    expect((await laptop.call('POST', '/api/progress/lessons/introduction')).status).toBe(204);
    const made = await laptop.call('POST', '/api/resume-code');
    expect(made.status).toBe(201);
    expect(made.json.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(made.json.path).toBe(`/resume/#${made.json.code}`);
    expect((await laptop.call('GET', '/api/resume-code')).json).toMatchObject({ active: true });

    const phone = browserWith(() => app, signedCookie(signer));
    // Typed as a person would: lower case, no dashes.
    const resumed = await phone.call('POST', '/api/resume', { code: made.json.code.replace(/-/g, '').toLowerCase() });
    expect(resumed.status).toBe(200);
    const session = sessionOf(resumed.headers);
    expect(session).toBe(home);
    const onPhone = browserWith(() => app, `${SESSION_COOKIE}=${signer.sign(session!)}`);
    expect((await onPhone.call('GET', '/api/progress')).json).toEqual((await laptop.call('GET', '/api/progress')).json);
  });

  it('stop working when replaced by a new one or revoked', async () => {
    const laptop = browserWith(() => app, signedCookie(signer));
    const first = (await laptop.call('POST', '/api/resume-code')).json.code;
    const second = (await laptop.call('POST', '/api/resume-code')).json.code;
    const other = browserWith(() => app, signedCookie(signer));
    const old = await other.call('POST', '/api/resume', { code: first });
    expect(old.status).toBe(404);
    expect(old.json.error.message).toMatch(/replaced or revoked/);
    expect((await laptop.call('DELETE', '/api/resume-code')).status).toBe(204);
    expect((await other.call('POST', '/api/resume', { code: second })).status).toBe(404);
    expect((await laptop.call('GET', '/api/resume-code')).json).toEqual({ active: false });
  });

  it('refuse bad input with a message that names the problem, and change nothing', async () => {
    const browser = browserWith(() => app, signedCookie(signer));
    const short = await browser.call('POST', '/api/resume', { code: 'ABCD' });
    expect(short.status).toBe(400);
    expect(short.json.error.message).toMatch(/12 letters and digits/);
    expect((await browser.call('POST', '/api/resume', { code: 'ABCD-EFGH-JKMN', extra: 1 })).status).toBe(400);
    expect((await browser.call('POST', '/api/resume', '{not json')).status).toBe(400);
    expect(sessionOf((await browser.call('POST', '/api/resume', { code: 'ABCD-EFGH-JKMN' })).headers)).toBeUndefined();
  });

  it('cap wrong guesses per address, with Retry-After, while a right code still needed no luck', async () => {
    app = createApp(appDeps(repo, signer));
    const guesser = browserWith(() => app, signedCookie(signer));
    const answers: number[] = [];
    for (let i = 0; i < 31; i++) {
      answers.push(
        (await guesser.call('POST', '/api/resume', { code: `ZZZZ-ZZZZ-ZZ${String(i).padStart(2, '0')}` })).status,
      );
    }
    expect(answers.slice(0, 30).every((s) => s === 404)).toBe(true);
    const capped = await guesser.call('POST', '/api/resume', { code: 'ZZZZ-ZZZZ-ZZZZ' });
    expect(capped.status).toBe(429);
    expect(capped.json.error.message).toMatch(/too many wrong resume codes/);
  });
});
