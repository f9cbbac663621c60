// The deployment's manifests agree with the server: the roles it binds are the ones it defines, and every file a
// kustomization names exists and parses.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1ClusterRole } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { learnerClusterRole } from '../sandbox-server/src/cluster/blueprint.ts';
import { checkerClusterRole, roleAction, sameRules } from '../sandbox-server/src/cluster/cluster-setup.ts';

const here = dirname(fileURLToPath(import.meta.url));
const documents = (file: string) =>
  parseAllDocuments(readFileSync(join(here, file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);

describe('deploy/', () => {
  it('grants in sandboxes exactly the roles the server defines', () => {
    const roles = documents('base/roles.yaml') as V1ClusterRole[];
    for (const ours of [learnerClusterRole, checkerClusterRole]) {
      const deployed = roles.find((r) => r.metadata?.name === ours.metadata?.name);
      expect(deployed, ours.metadata?.name).toBeDefined();
      expect(sameRules(deployed!.rules!, ours.rules!), `${ours.metadata?.name} differs from the server's`).toBe(true);
      expect(roleAction(deployed, ours), `${ours.metadata?.name}: the server would rewrite it`).toBe('keep');
    }
  });

  it('gives the server `bind` on those roles and none of the rights they grant', () => {
    const [, server] = documents('base/rbac.yaml') as { rules: { resources: string[]; verbs: string[] }[] }[];
    const bind = server!.rules.find((r) => r.verbs.includes('bind'));
    expect(bind).toMatchObject({ resourceNames: ['sidecar-lab:learner', 'sidecar-lab:checker'] });
    const held = server!.rules.flatMap((r) => r.resources);
    for (const right of ['secrets', 'deployments', 'daemonsets', 'pods/attach', 'pods/portforward', 'roles']) {
      expect(held, right).not.toContain(right);
    }
    expect(server!.rules.flatMap((r) => r.verbs)).not.toContain('escalate');
  });

  it('names only files that exist, in every kustomization', () => {
    for (const dir of ['base', 'overlays/local', 'overlays/cloud']) {
      const [kustomization] = documents(`${dir}/kustomization.yaml`) as { resources: string[] }[];
      for (const resource of kustomization!.resources) {
        const path = join(here, dir, resource);
        expect(existsSync(path), `${dir}: ${resource}`).toBe(true);
      }
    }
  });
});
