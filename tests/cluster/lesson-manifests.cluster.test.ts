// The lessons' own manifests (lessons/manifests/*.yaml, shown and applied unchanged from the pages) behave on the
// real cluster the way the lesson text says they do.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectl, kubectlRaw, waitFor, waitForPod } from '../support/kubectl.ts';

const manifest = (name: string) => readFileSync(`lessons/manifests/${name}.yaml`, 'utf8');
let ns: string;

beforeAll(async () => {
  ns = await createNamespace('test-lessons');
  const names = ['sync-demo', 'port-clash', 'proxy-sidecar', 'startup-race', 'startup-order', 'stuck-job'];
  for (const name of [...names, 'sidecar-deadlock', 'draining-job', 'probe-log', 'size-limit']) {
    await kubectl(['-n', ns, 'apply', '-f', '-'], manifest(name));
  }
});

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

const logs = (pod: string, container: string) => kubectl(['-n', ns, 'logs', pod, '-c', container]);

describe('lesson manifests', () => {
  it('sync-demo: nginx serves the page the sidecar keeps rewriting (why sidecars)', async () => {
    await waitForPod(ns, 'sync-demo');
    const page = await waitFor('a synced page', async () => {
      const out = await kubectl([
        '-n',
        ns,
        'exec',
        'sync-demo',
        '-c',
        'content-sync',
        '--',
        'wget',
        '-qO-',
        'http://localhost/',
      ]);
      return out.includes('Synced at') && out;
    });
    expect(page).toMatch(/<p>Synced at .+<\/p>/);
  });

  it('port-clash: the second nginx cannot bind port 80 and keeps restarting (characteristics)', async () => {
    const log = await waitFor('web-b to give up binding', async () => {
      const result = await kubectlRaw(['-n', ns, 'logs', 'port-clash', '-c', 'web-b']);
      return result.stdout.includes('still could not bind()') && result.stdout;
    });
    expect(log).toContain('Address already in use');
  });

  it('proxy-sidecar: a request to the Pod IP on port 80 comes back from main-app through the proxy', async () => {
    await waitForPod(ns, 'proxy-sidecar-example');
    const ip = await kubectl(['-n', ns, 'get', 'pod', 'proxy-sidecar-example', '-o', 'jsonpath={.status.podIP}']);
    const result = await kubectlRaw([
      '-n',
      ns,
      'exec',
      'proxy-sidecar-example',
      '-c',
      'main-app',
      '--',
      'wget',
      '-S',
      '-qO-',
      `http://${ip}:80/`,
    ]);
    expect(result.stdout).toContain('Hello from main-app');
    expect(result.stderr).toContain('X-Served-By: proxy-sidecar');
  });

  it('startup-race: the helper is listed (and started) first, yet the app asks before it is up (limitations)', async () => {
    const names = await kubectl(['-n', ns, 'get', 'pod', 'startup-race', '-o', 'jsonpath={.spec.containers[*].name}']);
    expect(names).toBe('helper app');
    await waitForPod(ns, 'startup-race');
    expect(await logs('startup-race', 'app')).toContain('app: the helper was not ready');
  });

  it('startup-race with a postStart hook on the helper: the kubelet holds the app until the hook returns (limitations)', async () => {
    const hook = [
      '    lifecycle:',
      '      postStart:',
      '        exec:',
      '          command: ["sh", "-c", "until wget -qO- http://localhost:8080/ >/dev/null 2>&1; do sleep 1; done"]',
    ].join('\n');
    const held = manifest('startup-race')
      .replace('name: startup-race', 'name: startup-held')
      .replace('  - name: helper\n', `  - name: helper\n${hook}\n`);
    await kubectl(['-n', ns, 'apply', '-f', '-'], held);
    await waitForPod(ns, 'startup-held');
    expect(await logs('startup-held', 'app')).toContain('app: the helper answered');
  });

  it('sidecar-deadlock: a native tail -f collector crash-loops and nginx never starts (native sidecars)', async () => {
    // The status swings between Init:Error (just exited) and Init:CrashLoopBackOff (waiting to restart it).
    let last = '';
    const status = await waitFor(
      'the collector to be restarted twice',
      async () => {
        last = await kubectl(['-n', ns, 'get', 'pod', 'sidecar-deadlock', '--no-headers']);
        return /Init:(CrashLoopBackOff|Error) +([2-9]|\d\d)/.test(last) && last;
      },
      240_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the Pod was: ${last}`);
    });
    expect(status).toMatch(/^sidecar-deadlock +\d\/2 +Init:/);
    const app = await kubectl([
      '-n',
      ns,
      'get',
      'pod',
      'sidecar-deadlock',
      '-o',
      'jsonpath={.status.containerStatuses[0].state}',
    ]);
    expect(app).toContain('PodInitializing');
  }, 300_000);

  it('startup-order: with a native sidecar and a startup probe, the helper is there first (native sidecars)', async () => {
    await waitForPod(ns, 'startup-order');
    expect(await logs('startup-order', 'app')).toContain('app: the helper answered');
  });

  it('stuck-job: an ordinary sidecar keeps the Job from completing (jobs)', async () => {
    const pod = await waitFor('the worker to finish', async () => {
      const out = await kubectl([
        '-n',
        ns,
        'get',
        'pods',
        '-l',
        'job-name=stuck-job',
        '-o',
        'jsonpath={.items[0].metadata.name} {.items[0].status.containerStatuses[?(@.name=="worker")].state.terminated.exitCode}',
      ]);
      const [name, exit] = out.trim().split(' ');
      return exit === '0' && name;
    });
    expect(await logs(pod, 'shipper')).toContain('stuck-job: done');
    const job = await kubectl(['-n', ns, 'get', 'job', 'stuck-job', '-o', 'jsonpath={.status.succeeded}']);
    expect(job).toBe('');
  });

  it('draining-job: the native shipper ships the last line and the Job completes (jobs)', async () => {
    await kubectl(
      ['-n', ns, 'wait', '--for=condition=complete', 'job/draining-job', '--timeout=120s'],
      undefined,
      130_000,
    );
    const shipped = await kubectl(['-n', ns, 'logs', 'job/draining-job', '-c', 'shipper']);
    expect(shipped.trim().split('\n')).toEqual([
      'report line 1',
      'report line 2',
      'report line 3',
      'draining-job: last line',
    ]);
  });

  it('probe-log: nginx writes its httpGet probes into the access log the collector ships (best practices)', async () => {
    const shipped = await waitFor('a kube-probe line', async () => {
      const out = await logs('probe-log', 'log-collector');
      return out.includes('kube-probe/1.35') && out;
    });
    expect(shipped).toMatch(/"GET \/ HTTP\/1.1" 200 .*"kube-probe\/1\.35"/);
  });

  it('size-limit: writing past sizeLimit succeeds, then the kubelet evicts the Pod (best practices)', async () => {
    const reason = await waitFor(
      'the eviction',
      async () => {
        const out = await kubectl([
          '-n',
          ns,
          'get',
          'pod',
          'size-limit',
          '-o',
          'jsonpath={.status.phase} {.status.reason}: {.status.message}',
        ]);
        return out.startsWith('Failed Evicted') && out;
      },
      240_000,
    );
    expect(reason).toContain('Usage of EmptyDir volume "logs" exceeds the limit "1Mi"');
  });
});

// Claims the lessons make in their text, proven on small Pods of the test's own.
describe('lesson claims', () => {
  it('containers of a Pod share the network, IPC and UTS namespaces, but not the mount or PID ones (characteristics)', async () => {
    await waitForPod(ns, 'sync-demo');
    const namespaces = async (container: string) => {
      const out = await kubectl(['-n', ns, 'exec', 'sync-demo', '-c', container, '--', 'ls', '-l', '/proc/self/ns/']);
      return Object.fromEntries([...out.matchAll(/ (\w+) -> (\w+:\[\d+\])/g)].map((m) => [m[1], m[2]]));
    };
    const [web, sync] = [await namespaces('web'), await namespaces('content-sync')];
    for (const shared of ['net', 'ipc', 'uts']) expect(web[shared], shared).toBe(sync[shared]);
    for (const own of ['mnt', 'pid']) expect(web[own], own).not.toBe(sync[own]);
    expect((await kubectl(['-n', ns, 'exec', 'sync-demo', '-c', 'content-sync', '--', 'hostname'])).trim()).toBe(
      'sync-demo',
    );
  });

  it('a Pod may declare spec.resources (Pod-level resources, beta in 1.34) (characteristics)', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pod-level' },
      spec: {
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
        containers: [{ name: 'a', image: 'busybox', command: ['sleep', '3600'] }],
      },
    };
    await kubectl(['-n', ns, 'apply', '-f', '-'], JSON.stringify(pod));
    const kept = await kubectl(['-n', ns, 'get', 'pod', 'pod-level', '-o', 'jsonpath={.spec.resources.limits.memory}']);
    expect(kept).toBe('128Mi');
  });

  it('a native sidecar is resized in place without a restart, and is missing from containerStatuses (common commands)', async () => {
    // Resizing may not change the QoS class, so the Pod declares requests and limits (the test namespace has no defaults).
    const resources = { requests: { cpu: '20m', memory: '16Mi' }, limits: { cpu: '50m', memory: '32Mi' } };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'resize-demo' },
      spec: {
        initContainers: [
          { name: 'helper', image: 'busybox', restartPolicy: 'Always', command: ['sleep', '3600'], resources },
        ],
        containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], resources }],
      },
    };
    await kubectl(['-n', ns, 'apply', '-f', '-'], JSON.stringify(pod));
    await waitForPod(ns, 'resize-demo');
    const patch = { spec: { initContainers: [{ name: 'helper', resources: { limits: { cpu: '60m' } } }] } };
    await kubectl([
      '-n',
      ns,
      'patch',
      'pod',
      'resize-demo',
      '--subresource',
      'resize',
      '--patch',
      JSON.stringify(patch),
    ]);
    const resized = await waitFor('the resize to apply', async () => {
      const out = await kubectl([
        '-n',
        ns,
        'get',
        'pod',
        'resize-demo',
        '-o',
        'jsonpath={.status.initContainerStatuses[0].resources.limits.cpu} {.status.initContainerStatuses[0].restartCount}',
      ]);
      return out.startsWith('60m') && out;
    });
    expect(resized).toBe('60m 0');
    const names = await kubectl([
      '-n',
      ns,
      'get',
      'pod',
      'resize-demo',
      '-o',
      'jsonpath={.status.containerStatuses[*].name}',
    ]);
    expect(names).toBe('app');
  });

  it('an ephemeral container can be added to a running Pod (advantages, common commands)', async () => {
    await waitForPod(ns, 'sync-demo');
    await kubectl([
      '-n',
      ns,
      'debug',
      'sync-demo',
      '--image=busybox',
      '-c',
      'debugger',
      '--profile=general',
      '--',
      'sh',
      '-c',
      'echo ephemeral-here; sleep 3600',
    ]);
    const out = await waitFor('the ephemeral container to print', async () => {
      const result = await kubectlRaw(['-n', ns, 'logs', 'sync-demo', '-c', 'debugger']);
      return result.stdout.includes('ephemeral-here') && result.stdout;
    });
    expect(out).toContain('ephemeral-here');
  });

  it('with restartPolicy Never a failed init container fails the Pod; with Always it is retried (native sidecars)', async () => {
    const pod = (name: string, restartPolicy: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          restartPolicy,
          initContainers: [{ name: 'fail', image: 'busybox', command: ['sh', '-c', 'exit 1'] }],
          containers: [{ name: 'a', image: 'busybox', command: ['sleep', '10'] }],
        },
      });
    await kubectl(['-n', ns, 'apply', '-f', '-'], pod('init-never', 'Never'));
    await kubectl(['-n', ns, 'apply', '-f', '-'], pod('init-always', 'Always'));
    const phase = await waitFor('init-never to fail', async () => {
      const out = await kubectl(['-n', ns, 'get', 'pod', 'init-never', '-o', 'jsonpath={.status.phase}']);
      return out === 'Failed' && out;
    });
    expect(phase).toBe('Failed');
    const restarts = await waitFor('init-always to be retried', async () => {
      const out = await kubectl([
        '-n',
        ns,
        'get',
        'pod',
        'init-always',
        '-o',
        'jsonpath={.status.phase} {.status.initContainerStatuses[0].restartCount}',
      ]);
      const [p, count] = out.split(' ');
      return p === 'Pending' && Number(count) >= 1 && out;
    });
    expect(restarts).toMatch(/^Pending [1-9]/);
  });
});
