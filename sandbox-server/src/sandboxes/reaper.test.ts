import type { V1Namespace } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ABANDONED_PROVISIONING_MS, isReapable, stuckNamespaces } from './reaper.ts';
import type { Sandbox } from './sandboxes.ts';

const ns = (name: string, deletion?: string, conditions: V1Namespace['status'] = {}): V1Namespace => ({
  metadata: { name, ...(deletion ? { deletionTimestamp: new Date(deletion) } : {}) },
  status: conditions,
});

describe('stuckNamespaces', () => {
  const now = new Date('2030-01-01T00:20:00Z');

  it('reports sandbox namespaces deleting for longer than the threshold, with their True conditions', () => {
    const stuck = stuckNamespaces(
      [
        ns('sbx-old', '2030-01-01T00:00:00Z', {
          phase: 'Terminating',
          conditions: [
            { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered' },
            {
              type: 'NamespaceFinalizersRemaining',
              status: 'True',
              reason: 'SomeFinalizersRemain',
              message: 'Some content in the namespace has finalizers remaining: x/y in 1 resource instances',
            },
          ],
        }),
        ns('sbx-recent', '2030-01-01T00:15:00Z'),
        ns('sbx-live'),
        ns('someone-else', '2030-01-01T00:00:00Z'),
      ],
      now,
      10 * 60_000,
    );
    expect(stuck).toEqual([
      {
        namespace: 'sbx-old',
        deletingSince: new Date('2030-01-01T00:00:00Z'),
        conditions: [
          {
            type: 'NamespaceFinalizersRemaining',
            reason: 'SomeFinalizersRemain',
            message: 'Some content in the namespace has finalizers remaining: x/y in 1 resource instances',
          },
        ],
      },
    ]);
  });

  it('with a threshold of 0 counts every deleting sandbox namespace', () => {
    expect(stuckNamespaces([ns('sbx-recent', '2030-01-01T00:19:59Z')], now, 0).map((s) => s.namespace)).toEqual([
      'sbx-recent',
    ]);
  });
});

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
