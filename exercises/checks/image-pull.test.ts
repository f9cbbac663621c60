// Which failed pulls are the node's to retry and which are the learner's mistake.
import { describe, expect, it } from 'vitest';
import { makeCheckContext } from '../context.ts';
import { type ClusterReader, ExerciseDefinitionSchema, type Pod, PodSchema } from '../model.ts';
import { runExercise } from '../runner.ts';
import { containersRunning } from './common.ts';
import { allowedImages, fullRepository, PULL_RETRY_GRACE_MS, pullRetrying } from './image-pull.ts';
import { findContainer } from './pods.ts';

const CREATED = Date.parse('2026-11-30T06:00:00Z');
const SOON = CREATED + 20_000;
const QPS = 'pull QPS exceeded';
const NOT_FOUND =
  'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:nope": failed to resolve reference "docker.io/library/busybox:nope": docker.io/library/busybox:nope: not found';

function waitingPod(image: string, reason: string, message: string, created = CREATED) {
  const pod = PodSchema.parse({
    metadata: { name: 'p', creationTimestamp: new Date(created).toISOString() },
    spec: { containers: [{ name: 'c', image }] },
    status: { containerStatuses: [{ name: 'c', state: { waiting: { reason, message } } }] },
  });
  return { pod, found: findContainer(pod, 'c')! };
}

const retrying = (image: string, reason: string, message: string, now = SOON) => {
  const { pod, found } = waitingPod(image, reason, message);
  return pullRetrying(pod, found, { now, allowed: ['busybox', 'nginx'] });
};

describe('pullRetrying', () => {
  it("counts the kubelet's own pull limit on an allowed image as the node retrying", () => {
    expect(retrying('busybox', 'ErrImagePull', QPS)).toBe(QPS);
    expect(
      retrying('nginx:1.26', 'ImagePullBackOff', `Back-off pulling image "nginx:1.26": ErrImagePull: ${QPS}`),
    ).toBe(QPS);
    expect(retrying('docker.io/library/busybox:latest', 'ErrImagePull', 'failed: 429 Too Many Requests')).toBeDefined();
  });

  it("leaves a tag the registry does not have, or an image off the allow-list, as the learner's mistake", () => {
    expect(retrying('busybox:nope', 'ErrImagePull', NOT_FOUND)).toBeUndefined();
    expect(retrying('busybox:nope', 'ImagePullBackOff', `Back-off pulling image "busybox:nope": ${NOT_FOUND}`)).toBe(
      undefined,
    );
    expect(retrying('redis', 'ErrImagePull', QPS)).toBeUndefined();
    expect(retrying('quay.io/library/busybox', 'ErrImagePull', QPS)).toBeUndefined();
  });

  it('stops excusing the pull once the Pod is older than the grace period, and ignores other states', () => {
    expect(retrying('busybox', 'ErrImagePull', QPS, CREATED + PULL_RETRY_GRACE_MS + 1)).toBeUndefined();
    expect(retrying('busybox', 'CrashLoopBackOff', QPS)).toBeUndefined();
    expect(retrying('busybox', 'InvalidImageName', QPS)).toBeUndefined();
  });
});

describe('image names', () => {
  it('expands Docker Hub short names and keeps other registries', () => {
    expect(fullRepository('busybox')).toBe('docker.io/library/busybox');
    expect(fullRepository('nginx:1.26')).toBe('docker.io/library/nginx');
    expect(fullRepository('sidecar-lab/toolbox@sha256:ab')).toBe('docker.io/sidecar-lab/toolbox');
    expect(fullRepository('127.0.0.1:5000/library/busybox:latest')).toBe('127.0.0.1:5000/library/busybox');
  });

  it("reads the server's allow-list, with the server's default", () => {
    expect(allowedImages({})).toEqual(['busybox', 'nginx']);
    expect(allowedImages({ SIDECAR_LAB_ALLOWED_IMAGES: ' busybox , redis,' })).toEqual(['busybox', 'redis']);
  });
});

describe('containersRunning on a pull the node retries', () => {
  /** The verdict of "containers running" on a Pod that stays in this state (a reader that only knows that Pod). */
  async function verdict(pod: Pod) {
    const none = () => Promise.reject(new Error('not read by this check'));
    const reader: ClusterReader = {
      getPod: async (name) => (name === 'p' ? pod : undefined),
      listPods: async () => [pod],
      getJob: none,
      listJobs: none,
      getResourceQuota: none,
      logs: none,
      getConfigMap: none,
      patchConfigMapData: none,
      exec: none,
    };
    const exercise = ExerciseDefinitionSchema.parse({
      id: 'demo',
      title: 'Demo',
      goal: 'g',
      hints: ['h'],
      checks: [containersRunning('p', ['c'], { requires: [], timeoutMs: 1500 })],
    });
    const ctx = makeCheckContext(reader, { namespace: 'ns', deadline: Date.now() + 10_000 });
    return (await runExercise(exercise, ctx)).checks[0]!;
  }

  it('is an error ("still starting, retrying"), not a failure, while the grace period lasts', async () => {
    const result = await verdict(
      waitingPod('busybox', 'ImagePullBackOff', `Back-off pulling image "busybox": ${QPS}`, Date.now()).pod,
    );
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^Still starting, retrying: .*c \(image "busybox": pull QPS exceeded\)/);
  });

  it('fails at once on a tag that does not exist, and on a retried pull past the grace period', async () => {
    const missing = await verdict(waitingPod('busybox:nope', 'ErrImagePull', NOT_FOUND, Date.now()).pod);
    expect(missing.status).toBe('fail');
    expect(missing.message).toMatch(/cannot be pulled \(ErrImagePull\)/);
    const old = await verdict(waitingPod('busybox', 'ErrImagePull', QPS, Date.now() - PULL_RETRY_GRACE_MS - 1000).pod);
    expect(old.status).toBe('fail');
  });
});
