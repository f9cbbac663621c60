import { createHash } from 'node:crypto';
import type { V1ClusterRole } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { learnerClusterRole, ROLE_REVISION } from './blueprint.ts';
import { checkerClusterRole, roleAction } from './cluster-setup.ts';
import { ANNOTATIONS } from './labels.ts';

const at = (revision: number | undefined, rules = learnerClusterRole.rules): V1ClusterRole => ({
  metadata: {
    name: learnerClusterRole.metadata!.name!,
    annotations: revision === undefined ? {} : { [ANNOTATIONS.rulesRevision]: String(revision) },
  },
  rules,
});

const fewerRules = learnerClusterRole.rules!.slice(1);

describe('roleAction', () => {
  it('creates a role that is missing', () => {
    expect(roleAction(undefined, learnerClusterRole)).toBe('create');
  });

  it('leaves a role alone that has our revision and our rules', () => {
    expect(roleAction(at(ROLE_REVISION), learnerClusterRole)).toBe('keep');
  });

  it("leaves a newer server's rules alone, even when they differ from ours", () => {
    expect(roleAction(at(ROLE_REVISION + 1, fewerRules), learnerClusterRole)).toBe('keep');
  });

  it('writes our rules over an older revision, and over a role written before revisions existed', () => {
    expect(roleAction(at(ROLE_REVISION - 1, fewerRules), learnerClusterRole)).toBe('replace');
    expect(roleAction(at(undefined), learnerClusterRole)).toBe('replace');
  });

  it('restores our rules when someone changed them without a new revision', () => {
    expect(roleAction(at(ROLE_REVISION, fewerRules), learnerClusterRole)).toBe('replace');
  });

  it('counts an unreadable revision as the oldest', () => {
    const role = at(ROLE_REVISION);
    role.metadata!.annotations![ANNOTATIONS.rulesRevision] = 'latest';
    expect(roleAction(role, learnerClusterRole)).toBe('replace');
  });
});

describe('ROLE_REVISION', () => {
  it('changes whenever the rules do', () => {
    // A change of either role's rules must bump ROLE_REVISION, or older servers keep rewriting the roles with their
    // rules; after bumping it, put the new digest here.
    const digest = createHash('sha256')
      .update(JSON.stringify([learnerClusterRole.rules, checkerClusterRole.rules]))
      .digest('hex')
      .slice(0, 16);
    expect({ revision: ROLE_REVISION, digest }).toEqual({ revision: 2, digest: '1a7482ac3e8e234b' });
  });
});
