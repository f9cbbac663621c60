// Server-rendered workshop pages (join, full, ended, dashboard): plain HTML, every value escaped, one nonce'd script.
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
export type PageKind = 'join' | 'join-code' | 'info' | 'dashboard';

/**
 * Sends a page with a strict Content Security Policy: only this response's nonce'd script and style run, nothing is
 * framed, and no referrer leaves (the dashboard's URL fragment carries the token for a moment).
 */
export function sendPage(
  c: Context,
  status: ContentfulStatusCode,
  options: { title: string; kind: PageKind; body: Markup; wide?: boolean; data?: { workshop?: string; code?: string } },
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
  <body data-page="${options.kind}" data-workshop="${options.data?.workshop ?? ''}" data-code="${options.data?.code ?? ''}">
    <header class="site"><a href="/">Sidecar Lab</a><span>Workshops</span></header>
    <main id="main" class="${options.wide ? 'wide' : ''}">${options.body}</main>
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

/** The dashboard shell; the script fills it from the API and keeps it live. */
export function dashboardBody(): Markup {
  return html`<div class="dash-head">
      <div>
        <p class="eyebrow">Workshop dashboard</p>
        <h1 id="ws-title">Loading…</h1>
      </div>
      <p class="live" id="live" role="status">Connecting…</p>
    </div>
    <section id="token-panel" class="card" hidden aria-labelledby="token-title">
      <h2 id="token-title">Instructor token</h2>
      <form class="stack" id="token-form">
        <div class="field">
          <label for="token">Paste the instructor token of this workshop</label>
          <input id="token" type="password" autocomplete="off" spellcheck="false" required />
          <p class="hint">It was shown once when the workshop was created. It stays in this tab only.</p>
        </div>
        <div><button type="submit" class="primary">Open dashboard</button></div>
      </form>
    </section>
    <div id="board" hidden>
      <dl class="facts card" aria-label="Workshop facts">
        <div><dt>Status</dt><dd id="ws-status"></dd></div>
        <div><dt>Time left</dt><dd id="ws-time"></dd></div>
        <div><dt>Learners</dt><dd id="ws-count"></dd></div>
        <div><dt>Join code</dt><dd><code id="ws-code"></code><button type="button" class="small" id="copy-link">Copy join link</button></dd></div>
      </dl>
      <div class="actions" role="toolbar" aria-label="Workshop actions">
        <label class="minutes">Minutes to add <input id="minutes" type="number" min="1" max="240" value="15" /></label>
        <button type="button" id="extend-all">Extend everyone</button>
        <span class="spacer"></span>
        <button type="button" id="export-csv">Export CSV</button>
        <button type="button" id="export-json">Export JSON</button>
        <button type="button" id="end" class="danger">End workshop</button>
      </div>
      <p class="status" id="message" role="status" aria-live="polite"></p>
      <div class="grid-wrap">
        <table class="grid" id="grid">
          <caption>Learner progress</caption>
          <thead><tr id="grid-head"></tr><tr id="grid-stuck" class="stuck-row"></tr></thead>
          <tbody id="grid-body"></tbody>
        </table>
      </div>
      <p class="muted" id="empty" hidden>No learners yet. Share the join code or the join link.</p>
    </div>
    <dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
      <form method="dialog">
        <h2 id="confirm-title"></h2>
        <p id="confirm-text"></p>
        <div class="buttons">
          <button value="cancel" id="confirm-cancel">Cancel</button>
          <button value="ok" id="confirm-ok" class="danger solid"></button>
        </div>
      </form>
    </dialog>`;
}
