import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SessionSigner } from './session.ts';

const signer = new SessionSigner('x'.repeat(32));

describe('SessionSigner', () => {
  it('round-trips a signed id, from the value and from a Cookie header', () => {
    const id = signer.newId();
    const value = signer.sign(id);
    expect(signer.verify(value)).toBe(id);
    expect(signer.fromCookieHeader(`a=b; ${SESSION_COOKIE}=${value}; c=d`)).toBe(id);
  });

  it('rejects tampered, foreign and malformed values', () => {
    const id = signer.newId();
    const value = signer.sign(id);
    const other = signer.newId();
    expect(signer.verify(`${other}${value.slice(id.length)}`)).toBeUndefined();
    expect(signer.verify(`${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(new SessionSigner('y'.repeat(32)).verify(value)).toBeUndefined();
    for (const bad of [undefined, '', 'nodot', `${id}.`, '.sig', 'short.sig'])
      expect(signer.verify(bad)).toBeUndefined();
  });
});
