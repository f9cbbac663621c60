// When applied objects count as settled: running and ready, finished, or stuck in a way waiting cannot fix.
import { describe, expect, it } from 'vitest';
import { JobSchema, type Pod, PodSchema } from './model.ts';
import { jobSettlement, podSettlement } from './settle.ts';

const NOW = Date.parse('2030-01-01T00:01:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

function pod(status: Record<string, unknown>, spec: Record<string, unknown> = {}): Pod {
  return PodSchema.parse({
    metadata: { name: 'p', labels: { 'batch.kubernetes.io/job-name': 'j' } },
    spec: { containers: [{ name: 'main' }, { name: 'side' }], ...spec },
    status,
  });
}
const running = (name: string, ready: boolean, startedSecondsAgo = 30, extra = {}) => ({
  name,
  ready,
  restartCount: 0,
  state: { running: { startedAt: ago(startedSecondsAgo) } },
  ...extra,
});
const readyCondition = (value: boolean) => ({ type: 'Ready', status: value ? 'True' : 'False' });

describe('podSettlement', () => {
  it('waits for a Pod that is still starting', () => {
    const p = pod({
      phase: 'Pending',
      containerStatuses: [{ name: 'main', state: { waiting: { reason: 'ContainerCreating' } } }],
    });
    expect(podSettlement(p, NOW).settled).toBe(false);
  });

  it('is settled when the Pod is Ready, finished, or stuck on its image', () => {
    const ready = pod({
      phase: 'Running',
      conditions: [readyCondition(true)],
      containerStatuses: [running('main', true), running('side', true)],
    });
    expect(podSettlement(ready, NOW).settled).toBe(true);
    expect(podSettlement(pod({ phase: 'Succeeded' }), NOW).settled).toBe(true);
    const badImage = pod({
      phase: 'Pending',
      containerStatuses: [{ name: 'side', state: { waiting: { reason: 'ImagePullBackOff' } } }],
    });
    expect(podSettlement(badImage, NOW)).toEqual({ settled: true, reason: 'p/side ImagePullBackOff' });
  });

  it('is settled once a container has exited or restarted', () => {
    const restarted = pod({
      phase: 'Running',
      conditions: [readyCondition(false)],
      containerStatuses: [running('main', true), running('side', false, 1, { restartCount: 1 })],
    });
    expect(podSettlement(restarted, NOW).settled).toBe(true);
  });

  it('waits for a readiness probe until it has had its chance to report', () => {
    const probe = { readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 5 } };
    const spec = { containers: [{ name: 'main', ...probe }, { name: 'side' }] };
    const status = (seconds: number) => ({
      phase: 'Running',
      conditions: [readyCondition(false)],
      containerStatuses: [running('main', false, seconds), running('side', true, seconds)],
    });
    expect(podSettlement(pod(status(3), spec), NOW).settled).toBe(false);
    // One failed probe is not a verdict on a busy node.
    expect(podSettlement(pod(status(9), spec), NOW).settled).toBe(false);
    // initialDelay 0 + three periods of 5 + timeout 1 + 2 s of slack
    expect(podSettlement(pod(status(19), spec), NOW).settled).toBe(true);
  });

  it('gives up on a plain init container that does not finish', () => {
    const spec = { initContainers: [{ name: 'collector' }] };
    const status = (seconds: number) => ({
      phase: 'Pending',
      initContainerStatuses: [running('collector', false, seconds)],
    });
    expect(podSettlement(pod(status(2), spec), NOW).settled).toBe(false);
    expect(podSettlement(pod(status(10), spec), NOW).settled).toBe(true);
  });

  it('does not mistake a running native sidecar for a stalled init container', () => {
    const spec = { initContainers: [{ name: 'collector', restartPolicy: 'Always' }] };
    const p = pod({ phase: 'Pending', initContainerStatuses: [running('collector', true, 30)] }, spec);
    expect(podSettlement(p, NOW).settled).toBe(false);
  });
});

describe('jobSettlement', () => {
  const job = (conditions: unknown[] = []) =>
    JobSchema.parse({
      metadata: { name: 'j' },
      spec: { template: { spec: { containers: [{ name: 'w' }] } } },
      status: { conditions },
    });

  it('is settled when the Job completed or failed', () => {
    expect(jobSettlement(job([{ type: 'Complete', status: 'True' }]), [], NOW).settled).toBe(true);
    expect(jobSettlement(job([{ type: 'Failed', status: 'True' }]), [], NOW).settled).toBe(true);
  });

  it('waits for the Job to have a Pod, then for its Pods', () => {
    expect(jobSettlement(job(), [], NOW).settled).toBe(false);
    const starting = pod({ phase: 'Pending' });
    expect(jobSettlement(job(), [starting], NOW).settled).toBe(false);
    expect(jobSettlement(job(), [pod({ phase: 'Succeeded' })], NOW).settled).toBe(true);
  });
});
