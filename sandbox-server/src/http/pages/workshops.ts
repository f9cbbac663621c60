// Server-rendered workshop pages, where the status code matters (join, full, ended, unknown): plain HTML, every value
// escaped, one nonce'd script. The instructor's pages (new workshop, dashboard) are the site's.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { WorkshopRecord } from '../../store/repository.ts';

type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

// Read once at start-up: small, and served inline so the pages need no extra request and no 'unsafe-inline'.
const CSS = readFileSync(new URL('./workshops.css', import.meta.url), 'utf8');
const SCRIPT = readFileSync(new URL('./workshops.client.js', import.meta.url), 'utf8');

/** Which script behaviour a page gets (the client script switches on it). */
export type PageKind = 'join' | 'join-code' | 'info';

/**
 * Sends a page with a strict Content Security Policy: only this response's nonce'd script and style run, nothing is
 * framed, and no referrer leaves (a join page's URL carries the join code).
 */
export function sendPage(
  c: Context,
  status: ContentfulStatusCode,
  options: { title: string; kind: PageKind; body: Markup; data?: { code?: string } },
) {
  const nonce = randomBytes(16).toString('base64');
  c.header(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
      "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  );
  c.header('Cache-Control', 'no-store');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Content-Type-Options', 'nosniff');
  const page = html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${options.title} · Sidecar Lab</title>
    <style nonce="${nonce}">
      ${raw(CSS)}
    </style>
  </head>
  <body data-page="${options.kind}" data-code="${options.data?.code ?? ''}">
    <header class="site"><a href="/">Sidecar Lab</a><span>Workshops</span></header>
    <main id="main">${options.body}</main>
    <script nonce="${nonce}">
      ${raw(SCRIPT)}
    </script>
  </body>
</html>`;
  return c.html(page, status);
}

const minutesLeft = (iso: string) => Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 60_000));

/** A plain message page: unknown code, ended, full, too many attempts. */
export function infoBody(title: string, message: string, extra?: Markup): Markup {
  return html`<h1>${title}</h1>
    <p>${message}</p>
    ${extra ?? ''}
    <p><a href="/">Go to the course</a></p>`;
}

/** A learner without a code yet: type it in. */
export function joinCodeBody(): Markup {
  return html`<p class="eyebrow">Join a workshop</p>
    <h1>Enter your join code</h1>
    <form class="stack card" id="code-form">
      <div class="field">
        <label for="code">Join code</label>
        <input id="code" name="code" type="text" class="code" autocomplete="off" spellcheck="false" maxlength="40" placeholder="XXXX-XXXX-XXXX" required />
        <p class="hint">Your instructor shows it at the start of the workshop.</p>
      </div>
      <div><button type="submit" class="primary">Continue</button></div>
    </form>`;
}

/** The display-name form; a learner who already joined sees their name and continues. */
export function joinBody(workshop: WorkshopRecord, member?: { name: string }): Markup {
  const left = minutesLeft(workshop.endsAt);
  return html`<p class="eyebrow">Join a workshop</p>
    <h1>${workshop.name}</h1>
    <p class="muted">${left >= 90 ? `${Math.round(left / 6) / 10} hours left` : `${left} minutes left`}</p>
    <form class="stack card" id="join-form">
      <div class="field">
        <label for="name">Your display name</label>
        <input id="name" name="name" type="text" maxlength="40" autocomplete="nickname" required value="${member?.name ?? ''}" ${member ? raw('readonly') : ''} />
        <p class="hint">Your instructor sees this name next to your progress. Other learners never see it.</p>
      </div>
      <div>
        <button type="submit" class="primary">${member ? 'Continue to the course' : 'Join workshop'}</button>
      </div>
    </form>
    <p class="status" id="join-status" role="status" aria-live="polite"></p>`;
}

export function fullBody(workshop: WorkshopRecord): Markup {
  return infoBody(
    'This workshop is full',
    `All ${workshop.capacity} places in "${workshop.name}" are taken. Ask your instructor for a place or another workshop's code.`,
  );
}
