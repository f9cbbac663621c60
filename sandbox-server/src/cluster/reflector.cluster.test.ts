// The reflector against the real API server: watches that end every two seconds resume without replaying the
// namespace, one real change is one notification, and a resume from a version the server no longer keeps (410 Gone)
// lists again and reports what changed meanwhile — nothing missed, nothing invented.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../tests/support/kubectl.ts';
import { createKube } from './kube.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { watchNamespace } from './namespace-watch.ts';
import { type ObservedChange, Reflector } from './reflector.ts';

const kube = createKube(loadKubeConfig());
const namespace = `reflector-test-${Date.now().toString(36)}`;
const podsPath = `/api/v1/namespaces/${namespace}/pods`;

const relabel = (value: string) =>
  kube.rest.json({
    method: 'PATCH',
    path: `${podsPath}/box`,
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: { step: value } } },
  });

beforeAll(async () => {
  await kube.core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'sidecar-lab.dev/test': 'reflector' } } },
  });
  await waitFor('the default ServiceAccount', async () =>
    kube.core.readNamespacedServiceAccount({ namespace, name: 'default' }),
  );
  await kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'box' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }],
      },
    },
  });
  // Settle the Pod first, so the kubelet's own status updates are not counted as the test's changes.
  await waitFor('the Pod running and ready', async () => {
    const pod = await kube.core.readNamespacedPod({ namespace, name: 'box' });
    return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
  });
});

afterAll(async () => {
  await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('reflector', () => {
  it('reports nothing for an idle namespace across several watch restarts, then one change per real change', async () => {
    const changes: ObservedChange[] = [];
    const reflector = new Reflector(kube.rest, podsPath, (c) => changes.push(c), { watchTimeoutSeconds: 2 });
    reflector.start();
    try {
      await waitFor('four watches (three restarts)', async () => (reflector.stats.watches >= 4 ? true : undefined));
      expect(changes).toEqual([]);
      expect(reflector.stats.lists).toBe(1);

      await relabel('one');
      await waitFor('the change', async () => (changes.length > 0 ? true : undefined));
      const watchesAfterChange = reflector.stats.watches;
      await waitFor('two more restarts', async () =>
        reflector.stats.watches >= watchesAfterChange + 2 ? true : undefined,
      );
      expect(changes).toEqual([{ type: 'MODIFIED', name: 'box' }]);
    } finally {
      reflector.stop();
    }
  });

  it('resumes from a version the API server no longer keeps: 410 Gone, a new list, the missed change reported once', async () => {
    const changes: ObservedChange[] = [];
    const reflector = new Reflector(kube.rest, podsPath, (c) => changes.push(c), { watchTimeoutSeconds: 30 });
    reflector.start();
    try {
      await waitFor('the first watch', async () => (reflector.stats.watches >= 1 ? true : undefined));
      reflector.pause();
      await relabel('while-away');
      reflector.resumeFrom('1'); // long compacted away on any cluster that has run a few minutes
      await waitFor('a second list after 410 Gone', async () => (reflector.stats.lists >= 2 ? true : undefined));
      expect(reflector.stats.gone).toBeGreaterThanOrEqual(1);
      await waitFor('the missed change', async () => (changes.length > 0 ? true : undefined));
      expect(changes).toEqual([{ type: 'MODIFIED', name: 'box' }]);

      // And it watches on from the new list: the next change arrives as an event, once.
      await relabel('after');
      await waitFor('the next change', async () => (changes.length > 1 ? true : undefined));
      expect(changes).toEqual([
        { type: 'MODIFIED', name: 'box' },
        { type: 'MODIFIED', name: 'box' },
      ]);
    } finally {
      reflector.stop();
    }
  });

  it('watchNamespace: an idle namespace gives no notification across restarts of both watches; a new Pod gives one', async () => {
    let notifications = 0;
    const stop = watchNamespace(kube, namespace, () => notifications++, { watchTimeoutSeconds: 2, debounceMs: 300 });
    try {
      // Long enough for each of its two watches (Pods, Jobs) to be restarted several times.
      await new Promise((r) => setTimeout(r, 9_000));
      expect(notifications).toBe(0);
      await kube.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: 'second' },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'main', image: 'busybox', command: ['sleep', '60'] }],
          },
        },
      });
      await waitFor('a notification', async () => (notifications > 0 ? true : undefined));
    } finally {
      stop();
    }
  });
});
