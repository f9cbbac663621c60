// What the grader sends for a submitted document: the object with kubectl apply's record of it, never the submission's.
import { describe, expect, it } from 'vitest';
import { asKubectlApplies } from './grading-namespace.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

describe('asKubectlApplies', () => {
  it('records the document as written, as kubectl apply does', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, spec: { containers: [] } };
    const sent = asKubectlApplies(pod);
    expect(JSON.parse(sent.metadata.annotations[LAST_APPLIED] ?? '')).toEqual(pod);
    expect(sent.spec).toBe(pod.spec);
  });

  it('replaces a record the submission brings (it could claim what the learner never wrote), keeping its other annotations', () => {
    const forged = {
      kind: 'Pod',
      metadata: {
        name: 'p',
        annotations: {
          team: 'a',
          [LAST_APPLIED]: '{"spec":{"containers":[{"name":"x","resources":{"requests":{"cpu":"1"}}}]}}',
        },
      },
      spec: { containers: [{ name: 'x', resources: { limits: { cpu: '100m' } } }] },
    };
    const sent = asKubectlApplies(forged);
    expect(sent.metadata.annotations.team).toBe('a');
    expect(JSON.parse(sent.metadata.annotations[LAST_APPLIED] ?? '')).toEqual({
      kind: 'Pod',
      metadata: { name: 'p', annotations: { team: 'a' } },
      spec: forged.spec,
    });
  });
});
