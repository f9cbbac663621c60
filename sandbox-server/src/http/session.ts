// Learner sessions: a random id in a signed, HttpOnly cookie. The same verifier serves HTTP routes and WebSockets.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies } from 'hono/utils/cookie';

export const SESSION_COOKIE = 'slab_session';

/** How the session cookie is set, wherever it is set: HttpOnly, same-site, for 30 days. */
export const sessionCookieOptions = (secure: boolean) =>
  ({ httpOnly: true, sameSite: 'Lax', secure, path: '/', maxAge: 60 * 60 * 24 * 30 }) as const;
const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export class SessionSigner {
  readonly #secret: string;
  constructor(secret: string) {
    this.#secret = secret;
  }

  /**
   * A key for another purpose, derived from the session secret so that every replica has the same one without another
   * setting, and distinct per purpose so that a MAC of one kind never passes for another.
   */
  derivedKey(purpose: string): Buffer {
    return createHmac('sha256', this.#secret).update(`sidecar-lab derived key: ${purpose}`).digest();
  }

  /** 128 random bits, base64url. */
  newId(): string {
    return randomBytes(16).toString('base64url');
  }

  sign(id: string): string {
    return `${id}.${this.#mac(id)}`;
  }

  /** The session id when the cookie value carries a valid signature; undefined for anything else. */
  verify(value: string | undefined): string | undefined {
    if (!value) return undefined;
    const dot = value.indexOf('.');
    if (dot < 0) return undefined;
    const id = value.slice(0, dot);
    if (!ID_PATTERN.test(id)) return undefined;
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.#mac(id));
    // Constant-time: a forged cookie learns nothing from how long the comparison took.
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  /** Reads and verifies the session from a raw Cookie header (for the WebSocket upgrade path). */
  fromCookieHeader(header: string | undefined): string | undefined {
    if (!header) return undefined;
    return this.verify(parseCookies(header, SESSION_COOKIE)[SESSION_COOKIE]);
  }

  #mac(id: string): string {
    return createHmac('sha256', this.#secret).update(id).digest('base64url');
  }
}
