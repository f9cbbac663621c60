import { describe, expect, it } from 'vitest';
import { clientFrom, trustedProxies } from './peer.ts';

describe('clientFrom', () => {
  const proxies = trustedProxies(['10.0.0.0/8', 'fd00::/8']);

  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(clientFrom('10.1.2.3', '203.0.113.9', undefined)).toBe('10.1.2.3');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientFrom('198.51.100.4', '203.0.113.9', proxies)).toBe('198.51.100.4');
  });

  it('takes the nearest untrusted hop, so a client cannot choose its own address', () => {
    expect(clientFrom('10.1.2.3', '1.1.1.1, 203.0.113.9', proxies)).toBe('203.0.113.9');
    expect(clientFrom('10.1.2.3', '203.0.113.9, 10.9.9.9', proxies)).toBe('203.0.113.9');
    expect(clientFrom('::ffff:10.1.2.3', '203.0.113.9', proxies)).toBe('203.0.113.9');
    expect(clientFrom('fd00::1', '2001:db8::7', proxies)).toBe('2001:db8::7');
  });

  it('stops at a hop that is not an address and keeps the last one believed', () => {
    expect(clientFrom('10.1.2.3', 'bogus, 10.9.9.9', proxies)).toBe('10.9.9.9');
  });
});

describe('trustedProxies', () => {
  it('is undefined for an empty list and names a bad entry', () => {
    expect(trustedProxies([])).toBeUndefined();
    expect(() => trustedProxies(['10.0.0.0/33'])).toThrow(/"10.0.0.0\/33" is not an IP address or CIDR range/);
    expect(() => trustedProxies(['proxy.local'])).toThrow(/"proxy.local"/);
  });
});
