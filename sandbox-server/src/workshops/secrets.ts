// Workshop secrets: join codes people can type, instructor tokens stored only as hashes, short-lived stream tickets.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Crockford's base32: no I, L, O or U, so a code read aloud or copied from a projector is not misread. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 12 symbols × 5 bits = 60 bits: with joins rate-limited, guessing a live code is hopeless. */
export const CODE_LENGTH = 12;

/** A new join code, normalised (no dashes); show it with formatJoinCode. */
export function newJoinCode(): string {
  // 256 is a multiple of 32, so taking the low 5 bits of each byte keeps every symbol equally likely.
  return [...randomBytes(CODE_LENGTH)].map((b) => CODE_ALPHABET[b & 31]).join('');
}

/** "ABCD-EFGH-JKMN": easier to read out and to type. */
export function formatJoinCode(code: string): string {
  return code.match(/.{1,4}/g)?.join('-') ?? code;
}

/** The code as typed → the stored form, or undefined when it cannot be a code. Case, dashes and spaces are ignored. */
export function normalizeJoinCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return code.length === CODE_LENGTH && [...code].every((ch) => CODE_ALPHABET.includes(ch)) ? code : undefined;
}

/** 256 random bits, URL-safe: the instructor's token, shown once at creation. */
export function newInstructorToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps instead of the token. A fast hash is enough: the token is random, not a password. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** True when `token` hashes to `storedHash`, compared in constant time; a missing hash still costs a comparison. */
export function tokenMatches(token: string | undefined, storedHash: string | undefined): boolean {
  const given = createHash('sha256')
    .update(token ?? '')
    .digest();
  const expected = /^[0-9a-f]{64}$/.test(storedHash ?? '') ? Buffer.from(storedHash!, 'hex') : randomBytes(32);
  return timingSafeEqual(given, expected) && token !== undefined && storedHash !== undefined;
}

/**
 * Tickets let the dashboard open its event stream: EventSource cannot send an Authorization header, and the token
 * itself must not travel in a URL (URLs end up in logs and history). A ticket names one workshop and lives a minute.
 * Its key is derived from the session secret that every replica shares, so a ticket minted by one replica opens the
 * stream on another (behind a load balancer the two requests rarely meet the same one).
 */
export class TicketSigner {
  readonly #key: Buffer;
  readonly ttlMs: number;

  constructor(key: Buffer, ttlMs = 60_000) {
    if (key.length < 32) throw new Error('TicketSigner: the key must have at least 32 bytes');
    this.#key = key;
    this.ttlMs = ttlMs;
  }

  mint(workshopId: string, now = Date.now()): { ticket: string; expiresAt: string } {
    const expires = now + this.ttlMs;
    return { ticket: `${expires}.${this.#mac(workshopId, expires)}`, expiresAt: new Date(expires).toISOString() };
  }

  verify(ticket: string | undefined, workshopId: string, now = Date.now()): boolean {
    const match = /^(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(ticket ?? '');
    if (!match) return false;
    const expires = Number(match[1]);
    const given = Buffer.from(match[2]!);
    const expected = Buffer.from(this.#mac(workshopId, expires));
    return timingSafeEqual(given, expected) && expires > now;
  }

  #mac(workshopId: string, expires: number): string {
    return createHmac('sha256', this.#key).update(`${workshopId}.${expires}`).digest('base64url');
  }
}
