// The lessons' own manifests (lessons/manifests/*.yaml, shown and applied unchanged from the pages) behave on the
// real cluster the way the lesson text says they do.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectl, kubectlRaw, waitFor, waitForPod } from '../support/kubectl.ts';

const manifest = (name: string) => readFileSync(`lessons/manifests/${name}.yaml`, 'utf8');
let ns: string;

beforeAll(async () => {
  ns = await createNamespace('test-lessons');
  for (const name of ['sync-demo', 'port-clash', 'proxy-sidecar', 'startup-race', 'startup-order', 'stuck-job']) {
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

  it('startup-race: the app asks before the plain sidecar is up (limitations)', async () => {
    await waitForPod(ns, 'startup-race');
    expect(await logs('startup-race', 'app')).toContain('app: the helper was not ready');
  });

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
});
