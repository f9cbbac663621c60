// Reading Pods like a learner: containers by name and role, mounts, states; LimitRanger's defaults told apart.
import { describe, expect, it } from 'vitest';
import { PodSchema } from '../model.ts';
import { defaultedByLimitRanger } from '../sidecar-resources/exercise.ts';
import { imageName } from './common.ts';
import { describeState, findContainer, learnerMounts, mountsCovering } from './pods.ts';

const pod = PodSchema.parse({
  metadata: {
    name: 'p',
    annotations: {
      'kubernetes.io/limit-ranger':
        'LimitRanger plugin set: cpu, memory request for container agent; memory limit for container agent; cpu limit for init container native',
    },
  },
  spec: {
    initContainers: [
      { name: 'native', restartPolicy: 'Always' },
      { name: 'setup', volumeMounts: [{ name: 'logs', mountPath: '/var/log/nginx/' }] },
    ],
    containers: [
      {
        name: 'agent',
        volumeMounts: [
          { name: 'logs', mountPath: '/var/log' },
          { name: 'kube-api-access-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
        ],
      },
    ],
  },
  status: {
    containerStatuses: [{ name: 'agent', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
    initContainerStatuses: [{ name: 'native', state: { terminated: { exitCode: 2, reason: 'Error' } } }],
  },
});

describe('pods', () => {
  it('finds containers with their role and status', () => {
    expect(findContainer(pod, 'agent')?.role).toBe('container');
    expect(findContainer(pod, 'native')?.role).toBe('native-sidecar');
    expect(findContainer(pod, 'setup')?.role).toBe('init');
    expect(findContainer(pod, 'nope')).toBeUndefined();
    expect(describeState(findContainer(pod, 'agent')?.status)).toBe('waiting (CrashLoopBackOff)');
    expect(describeState(findContainer(pod, 'native')?.status)).toBe('exited with code 2 (Error)');
    expect(describeState(undefined)).toBe('not started yet');
  });

  it('finds the mounts that hold a path, and hides the injected API token', () => {
    const agent = findContainer(pod, 'agent')?.spec;
    const setup = findContainer(pod, 'setup')?.spec;
    if (!agent || !setup) throw new Error('fixture');
    expect(mountsCovering(agent, '/var/log/nginx/access.log').map((m) => m.mountPath)).toEqual(['/var/log']);
    expect(mountsCovering(setup, '/var/log/nginx/access.log').map((m) => m.mountPath)).toEqual(['/var/log/nginx/']);
    expect(mountsCovering(setup, '/var/log/nginx-other/x')).toEqual([]);
    expect(learnerMounts(agent).map((m) => m.name)).toEqual(['logs']);
  });

  it('reads image names whatever the registry and tag', () => {
    expect(
      ['nginx:1.26', 'docker.io/library/nginx:1.26', 'localhost:5000/nginx@sha256:abc', 'busybox'].map(imageName),
    ).toEqual(['nginx', 'nginx', 'nginx', 'busybox']);
  });

  it("tells LimitRanger's defaults from the learner's values", () => {
    expect([...defaultedByLimitRanger(pod, 'agent')].sort()).toEqual(['cpu request', 'memory limit', 'memory request']);
    expect([...defaultedByLimitRanger(pod, 'native')]).toEqual(['cpu limit']);
    expect(defaultedByLimitRanger(pod, 'other').size).toBe(0);
  });
});
