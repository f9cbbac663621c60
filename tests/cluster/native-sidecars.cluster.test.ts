// Native sidecars (initContainers with restartPolicy: Always) on the real cluster: start order, and Jobs that finish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectl, waitFor, waitForPod } from '../support/kubectl.ts';

let ns: string;
beforeAll(async () => {
  ns = await createNamespace('test-native');
});
afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

const orderedPod = `
apiVersion: v1
kind: Pod
metadata: {name: start-order}
spec:
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: sidecar
    image: busybox
    restartPolicy: Always
    command: [sh, -c, 'sleep 2; date +%s > /shared/sidecar-up; exec sleep 3600']
    startupProbe:
      exec: {command: [test, -f, /shared/sidecar-up]}
      periodSeconds: 1
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'if test -f /shared/sidecar-up; then echo sidecar-was-first; else echo main-was-first; fi; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
`;

const jobWithSidecar = `
apiVersion: batch/v1
kind: Job
metadata: {name: with-sidecar}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      volumes: [{name: out, emptyDir: {}}]
      initContainers:
      - name: shipper
        image: busybox
        restartPolicy: Always
        # As PID 1 a shell ignores SIGTERM unless it traps it; without the trap the Job waits out the grace period.
        command: [sh, -c, 'trap "exit 0" TERM; touch /out/report; tail -f /out/report & wait']
        volumeMounts: [{name: out, mountPath: /out}]
      containers:
      - name: work
        image: busybox
        command: [sh, -c, 'echo report-line >> /out/report; sleep 1']
        volumeMounts: [{name: out, mountPath: /out}]
`;

describe('native sidecar containers', () => {
  it('start before the main container', async () => {
    await kubectl(['-n', ns, 'apply', '-f', '-'], orderedPod);
    await waitForPod(ns, 'start-order');
    const logs = await kubectl(['-n', ns, 'logs', 'start-order', '-c', 'main']);
    expect(logs.trim()).toBe('sidecar-was-first');
    const kinds = await kubectl([
      '-n',
      ns,
      'get',
      'pod',
      'start-order',
      '-o',
      'jsonpath={.status.initContainerStatuses[0].started}',
    ]);
    expect(kinds).toBe('true');
  });

  it('let a Job complete while the sidecar would run forever', async () => {
    await kubectl(['-n', ns, 'apply', '-f', '-'], jobWithSidecar);
    await kubectl(
      ['-n', ns, 'wait', '--for=condition=Complete', 'job/with-sidecar', '--timeout=120s'],
      undefined,
      130_000,
    );
    const pod = await waitFor('the Job pod', async () =>
      (
        await kubectl([
          '-n',
          ns,
          'get',
          'pods',
          '-l',
          'job-name=with-sidecar',
          '-o',
          'jsonpath={.items[0].metadata.name}',
        ])
      ).trim(),
    );
    const shipped = await kubectl(['-n', ns, 'logs', pod, '-c', 'shipper']);
    expect(shipped).toContain('report-line');
  });
});
