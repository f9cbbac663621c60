import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  formatJoinCode,
  hashToken,
  newInstructorToken,
  newJoinCode,
  normalizeJoinCode,
  TicketSigner,
  tokenMatches,
} from './secrets.ts';

describe('join codes', () => {
  it('are 12 symbols of Crockford base32: at least 50 bits, nothing easy to misread', () => {
    expect(CODE_ALPHABET).toHaveLength(32);
    expect(CODE_ALPHABET).not.toMatch(/[ILOU]/);
    expect(CODE_LENGTH * Math.log2(CODE_ALPHABET.length)).toBeGreaterThanOrEqual(50);
    const codes = new Set(Array.from({ length: 2000 }, () => newJoinCode()));
    expect(codes.size).toBe(2000);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
  });

  it('use every symbol about equally often', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) for (const ch of newJoinCode()) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(32);
    const expected = (4000 * 12) / 32;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.15);
  });

  it('are shown in groups of four and read back whatever the case, dashes, spaces or look-alikes', () => {
    expect(formatJoinCode('ABCD0123WXYZ')).toBe('ABCD-0123-WXYZ');
    expect(normalizeJoinCode('abcd-0123-wxyz')).toBe('ABCD0123WXYZ');
    expect(normalizeJoinCode(' abcd 0123 wxyz ')).toBe('ABCD0123WXYZ');
    expect(normalizeJoinCode('ABCD-O1I3-WXYZ')).toBe('ABCD0113WXYZ');
    expect(normalizeJoinCode('ABCD-L123-WXYZ')).toBe('ABCD1123WXYZ');
  });

  it('refuse anything that cannot be a code', () => {
    for (const bad of ['', 'ABC', 'ABCD-0123-WXYZ-0', 'ABCD-0123-WXYU', '../../etc', 'ABCD\u20260123WXY']) {
      expect(normalizeJoinCode(bad), bad).toBeUndefined();
    }
  });
});

describe('instructor tokens', () => {
  it('carry 256 random bits and are stored only as a SHA-256 hash', () => {
    const token = newInstructorToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newInstructorToken()).not.toBe(token);
    const hash = hashToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token);
  });

  it('match only their own hash, and a missing token or hash never matches', () => {
    const token = newInstructorToken();
    const hash = hashToken(token);
    expect(tokenMatches(token, hash)).toBe(true);
    expect(tokenMatches(`${token}x`, hash)).toBe(false);
    expect(tokenMatches(newInstructorToken(), hash)).toBe(false);
    expect(tokenMatches(undefined, hash)).toBe(false);
    expect(tokenMatches(token, undefined)).toBe(false);
    expect(tokenMatches('', hashToken(''))).toBe(true); // the hash decides, not the caller's input
    expect(tokenMatches(token, 'not-a-hash')).toBe(false);
  });
});

describe('stream tickets', () => {
  it('open one workshop for a minute, with any signer of the same key and no other', () => {
    const key = randomBytes(32);
    const signer = new TicketSigner(key, 60_000);
    const now = Date.now();
    const { ticket, expiresAt } = signer.mint('0123456789abcdef', now);
    expect(Date.parse(expiresAt)).toBe(now + 60_000);
    expect(signer.verify(ticket, '0123456789abcdef', now + 1000)).toBe(true);
    expect(signer.verify(ticket, 'fedcba9876543210', now + 1000)).toBe(false);
    expect(signer.verify(ticket, '0123456789abcdef', now + 60_001)).toBe(false);
    // Another replica (same key) accepts it; a server with another key does not.
    expect(new TicketSigner(Buffer.from(key)).verify(ticket, '0123456789abcdef', now + 1000)).toBe(true);
    expect(new TicketSigner(randomBytes(32)).verify(ticket, '0123456789abcdef', now + 1000)).toBe(false);
    const [expires, mac] = ticket.split('.');
    expect(signer.verify(`${Number(expires) + 999_999}.${mac}`, '0123456789abcdef', now)).toBe(false);
    for (const bad of [undefined, '', 'x', `${expires}.`, `${expires}.${mac}x`]) {
      expect(signer.verify(bad, '0123456789abcdef', now)).toBe(false);
    }
  });
});
