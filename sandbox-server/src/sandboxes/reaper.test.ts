import { describe, expect, it } from 'vitest';
import { ABANDONED_PROVISIONING_MS, isReapable } from './reaper.ts';
import type { Sandbox } from './sandboxes.ts';

const now = new Date('2026-11-25T12:00:00Z');
const later = new Date(now.getTime() + 3_600_000);
const sandbox = (over: Partial<Sandbox>): Sandbox => ({
  id: 'abc',
  namespace: 'sbx-abc',
  owner: '',
  status: 'ready',
  expiresAt: later,
  ...over,
});

describe('isReapable', () => {
  it('reaps an expired sandbox, and leaves a live one alone', () => {
    expect(isReapable(sandbox({ expiresAt: new Date(now.getTime() - 1) }), now)).toBe(true);
    expect(isReapable(sandbox({}), now)).toBe(false);
  });

  it('skips a namespace that is already being deleted, or that is not ours by name', () => {
    expect(isReapable(sandbox({ expiresAt: new Date(0), status: 'deleting' }), now)).toBe(false);
    expect(isReapable(sandbox({ expiresAt: new Date(0), namespace: 'kube-system' }), now)).toBe(false);
  });

  it('reaps a pool sandbox whose build was abandoned, but not one still being built', () => {
    const old = new Date(now.getTime() - ABANDONED_PROVISIONING_MS - 1);
    const fresh = new Date(now.getTime() - 60_000);
    expect(isReapable(sandbox({ pool: 'provisioning', createdAt: old, status: 'provisioning' }), now)).toBe(true);
    expect(isReapable(sandbox({ pool: 'provisioning', createdAt: fresh, status: 'provisioning' }), now)).toBe(false);
    expect(isReapable(sandbox({ pool: 'warm', createdAt: old }), now)).toBe(false);
  });
});
