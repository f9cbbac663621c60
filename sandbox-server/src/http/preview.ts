// How a Pod's page is handed to the browser: in an opaque origin, so whatever it runs cannot read the course's
// cookies, call its API with the learner's session or script the lesson page that frames it.
import type { BytesResponse } from '../cluster/rest.ts';

/** Where previews live: outside /api/, so a Pod's 404 never counts as a guessed sandbox id. */
export const PREVIEW_PREFIX = '/preview/sandboxes';

/**
 * `sandbox allow-scripts` without `allow-same-origin` runs the page in a unique opaque origin even when it is opened
 * at the top level; `frame-ancestors 'self'` lets only the course frame it.
 */
export const PREVIEW_CSP = "sandbox allow-scripts allow-forms allow-popups; frame-ancestors 'self'";

/** Headers of every preview answer, the Pod's or our own refusal. */
export function previewHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': PREVIEW_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'SAMEORIGIN',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** The Pod's headers worth keeping; everything else (Set-Cookie above all) is dropped. */
const KEPT = ['content-language', 'last-modified', 'etag'] as const;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The browser's answer for a Pod's: status and body as the Pod gave them, headers from our short list. */
export function previewResponse(answer: BytesResponse): Response {
  const headers = new Headers(previewHeaders(first(answer.headers['content-type']) ?? 'application/octet-stream'));
  for (const name of KEPT) {
    const value = first(answer.headers[name]);
    if (value) headers.set(name, value);
  }
  // A redirect within the Pod (a relative Location) is followed; one to anywhere else is not passed on.
  const location = first(answer.headers.location);
  if (location && !/^[/\\]/.test(location) && !location.includes(':')) headers.set('Location', location);
  const status = answer.status >= 200 && answer.status <= 599 ? answer.status : 502;
  const empty = status === 204 || status === 304;
  return new Response(empty ? null : new Uint8Array(answer.body), { status, headers });
}

/** A refusal of ours, as plain text with the same headers (it is shown in the same frame). */
export function previewRefusal(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: previewHeaders('text/plain; charset=utf-8') });
}
