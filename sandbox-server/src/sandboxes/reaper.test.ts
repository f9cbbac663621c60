import type { V1Namespace } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { stuckNamespaces } from './reaper.ts';

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
