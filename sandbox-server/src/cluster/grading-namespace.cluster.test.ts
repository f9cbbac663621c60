// Grading namespaces on the real cluster: applying manifests, and the checker identity's read-only rights.
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../exercises/manifests.ts';
import { PSA_VERSION } from './blueprint.ts';
import { impersonating } from './check-context.ts';
import { gradingLearnerUser } from './grading-blueprint.ts';
import {
  applyManifests,
  createGradingNamespace,
  deleteGradingNamespace,
  gradingCheckerUser,
} from './grading-namespace.ts';
import { createKube } from './kube.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { KubeApiError } from './rest.ts';

const kc = loadKubeConfig();

describe('grading namespaces', () => {
  it('apply creates, then updates existing objects, and reports refusals per document', async () => {
    const namespace = await createGradingNamespace(kc, { exercise: 'apply' });
    try {
      const configMap = (extra: string) =>
        parseManifests(
          `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: elsewhere}\n${extra}`,
          'cm.yaml',
        ).objects;
      const [created] = await applyManifests(kc, namespace, configMap('data: {k: one}\n'));
      expect(created).toEqual({
        file: 'cm.yaml',
        line: 1,
        kind: 'ConfigMap',
        name: 'a',
        warning: `metadata.namespace "elsewhere" was replaced by "${namespace}"`,
      });
      expect((await applyManifests(kc, namespace, configMap('data: {k: two}\n')))[0]?.error).toBeUndefined();
      expect((await applyManifests(kc, namespace, configMap('bogus: 1\n')))[0]?.error).toMatch(/bogus/);
      const others = parseManifests(
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: mine}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n',
        'other.yaml',
      ).objects;
      expect((await applyManifests(kc, namespace, others)).map((o) => o.error)).toEqual([
        'Namespace is cluster-scoped; only namespaced objects can be applied here',
        'the cluster does not know kind Widget in example.com/v1',
      ]);
    } finally {
      await deleteGradingNamespace(kc, namespace);
    }
  });
});

describe('the fences of a grading namespace', () => {
  it('refuses, as the learner, what a sandbox refuses: another image, a privileged Pod, RBAC', async () => {
    const namespace = await createGradingNamespace(kc, { exercise: 'fences' });
    try {
      const labels = (await createKube(kc).core.readNamespace({ name: namespace })).metadata?.labels ?? {};
      expect(labels).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': PSA_VERSION,
      });
      const pod = (name: string, image: string, extra = '') =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - {name: c, image: ${image}${extra}}\n---\n`;
      const docs = parseManifests(
        pod('other-image', 'alpine:3.20') +
          pod('privileged', 'busybox', ', securityContext: {privileged: true}') +
          'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: all}\n' +
          'rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]\n',
        'hostile.yaml',
      ).objects;
      const learner = impersonating(kc, gradingLearnerUser(namespace));
      const errors = (await applyManifests(learner, namespace, docs)).map((o) => o.error);
      expect(errors[0]).toMatch(/this course allows only these images: busybox, nginx/);
      expect(errors[1]).toMatch(/violates PodSecurity "baseline:v1\.35": privileged/);
      expect(errors[2]).toMatch(
        new RegExp(`User "system:serviceaccount:${namespace}:learner" cannot create resource "roles"`),
      );
    } finally {
      await deleteGradingNamespace(kc, namespace);
    }
  });
});

describe('the checker identity', () => {
  it('can read and exec in a grading namespace, but not change anything', async () => {
    const namespace = await createGradingNamespace(kc, { exercise: 'identity' });
    try {
      const { core } = createKube(impersonating(kc, gradingCheckerUser(namespace)));
      await expect(core.listNamespacedPod({ namespace })).resolves.toMatchObject({ items: [] });
      const created = core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'busybox' }] } },
      });
      await expect(created).rejects.toSatisfy((e) => e instanceof KubeApiError && e.code === 403);
      const other = core.listNamespacedPod({ namespace: 'kube-system' });
      await expect(other).rejects.toSatisfy((e) => e instanceof KubeApiError && e.code === 403);
    } finally {
      await deleteGradingNamespace(kc, namespace);
    }
  });
});
