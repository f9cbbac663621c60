import { describe, expect, it } from 'vitest';
import {
  ABANDONED_PROVISIONING_MS,
  expiryAfterActivity,
  extendedExpiry,
  extensionRefusal,
  formatMinutes,
  limitOf,
  reapReason,
} from './lifetime.ts';
import type { Sandbox } from './sandboxes.ts';

const now = new Date('2026-11-25T12:00:00Z');
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
const settings = { idleMs: 30 * 60_000, maxMs: 240 * 60_000 };
const sandbox = (over: Partial<Sandbox>): Sandbox => ({
  id: 'abc',
  namespace: 'sbx-abc',
  owner: 'learner',
  status: 'ready',
  expiresAt: at(60),
  claimedAt: at(-10),
  endsBy: at(230),
  ...over,
});

describe('reapReason', () => {
  it('keeps a live sandbox and reaps one idle past its expiry', () => {
    expect(reapReason(sandbox({}), now)).toBeUndefined();
    expect(reapReason(sandbox({ expiresAt: at(-1) }), now)).toBe('idle');
  });

  it('names the maximum when the expiry had reached it, and holds the maximum over a later expiry', () => {
    expect(reapReason(sandbox({ expiresAt: at(-1), endsBy: at(-1) }), now)).toBe('max_lifetime');
    expect(reapReason(sandbox({ expiresAt: at(60), endsBy: at(-1) }), now)).toBe('max_lifetime');
  });

  it('ends a workshop sandbox at its workshop end, whatever the maximum or idle time', () => {
    expect(reapReason(sandbox({ workshop: 'w1', endsBy: at(-100), expiresAt: at(5) }), now)).toBeUndefined();
    expect(reapReason(sandbox({ workshop: 'w1', expiresAt: at(-1) }), now)).toBe('workshop_ended');
  });

  it('never uses claim time plus its own maximum: other servers on the cluster have their own settings', () => {
    const legacy = sandbox({ endsBy: undefined, claimedAt: at(-10_000), expiresAt: at(5) });
    expect(reapReason(legacy, now)).toBeUndefined();
  });

  it('skips a namespace being deleted, or not ours by name', () => {
    expect(reapReason(sandbox({ expiresAt: new Date(0), status: 'deleting' }), now)).toBeUndefined();
    expect(reapReason(sandbox({ expiresAt: new Date(0), namespace: 'kube-system' }), now)).toBeUndefined();
  });

  it('reaps an unclaimed pool sandbox past its day, and a build abandoned, but not one still being built', () => {
    const pool = { owner: '', endsBy: undefined, claimedAt: undefined };
    const old = new Date(now.getTime() - ABANDONED_PROVISIONING_MS - 1);
    const fresh = at(-1);
    expect(reapReason(sandbox({ ...pool, pool: 'warm', expiresAt: at(-1) }), now)).toBe('pool_expired');
    expect(reapReason(sandbox({ ...pool, pool: 'provisioning', createdAt: old, status: 'provisioning' }), now)).toBe(
      'abandoned_build',
    );
    expect(
      reapReason(sandbox({ ...pool, pool: 'provisioning', createdAt: fresh, status: 'provisioning' }), now),
    ).toBeUndefined();
    expect(reapReason(sandbox({ ...pool, pool: 'warm', createdAt: old }), now)).toBeUndefined();
  });
});

describe('activity and extensions', () => {
  it('activity earns the idle period from now, within the limit; workshop and pool sandboxes do not follow it', () => {
    expect(expiryAfterActivity(sandbox({}), now, settings)).toEqual(at(30));
    expect(expiryAfterActivity(sandbox({ endsBy: at(10) }), now, settings)).toEqual(at(10));
    expect(expiryAfterActivity(sandbox({ workshop: 'w1' }), now, settings)).toBeUndefined();
    expect(expiryAfterActivity(sandbox({ owner: '' }), now, settings)).toBeUndefined();
  });

  it('the limit is the annotation, else claim time plus the maximum for a sandbox claimed before it existed', () => {
    expect(limitOf(sandbox({}), settings)).toEqual(at(230));
    expect(limitOf(sandbox({ endsBy: undefined }), settings)).toEqual(at(230));
    expect(limitOf(sandbox({ workshop: 'w1' }), settings)).toBeUndefined();
  });

  it('extends from the later of now and the expiry, stopping at the limit', () => {
    expect(extendedExpiry(sandbox({ expiresAt: at(5) }), 20, settings, now)).toEqual(at(25));
    expect(extendedExpiry(sandbox({ expiresAt: at(-5) }), 20, settings, now)).toEqual(at(20));
    expect(extendedExpiry(sandbox({ expiresAt: at(220) }), 60, settings, now)).toEqual(at(230));
  });

  it('refuses at the limit naming it, and for a workshop sandbox naming the workshop', () => {
    expect(extensionRefusal(sandbox({}), settings, now)).toBeUndefined();
    expect(extensionRefusal(sandbox({ expiresAt: at(230) }), settings, now)).toMatch(
      /longest allowed \(240 minutes from its start, until 2026-11-25T15:50:00.000Z\)/,
    );
    expect(extensionRefusal(sandbox({ workshop: 'w1' }), settings, now)).toMatch(/workshop.*instructor/);
  });

  it('says periods as a learner reads them', () => {
    expect(formatMinutes(240 * 60_000)).toBe('240 minutes');
    expect(formatMinutes(90_000)).toBe('1.5 minutes');
    expect(formatMinutes(60_000)).toBe('1 minute');
    expect(formatMinutes(30_000)).toBe('30 seconds');
  });
});
