// The seed document's YAML, applied unchanged, behaves on the real local cluster as the lessons say it does.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectl, kubectlStream, waitFor, waitForPod } from '../support/kubectl.ts';

const nginxWithSidecar = readFileSync('lessons/manifests/seed-nginx-with-sidecar.yaml', 'utf8');
const loggingExample = readFileSync('lessons/manifests/seed-logging-sidecar-example.yaml', 'utf8');
let ns: string;

beforeAll(async () => {
  ns = await createNamespace('test-seed');
  await kubectl(['-n', ns, 'apply', '-f', '-'], nginxWithSidecar);
  await kubectl(['-n', ns, 'apply', '-f', '-'], loggingExample);
  await waitForPod(ns, 'nginx-with-sidecar');
  await waitForPod(ns, 'logging-sidecar-example');
});

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

describe('nginx-with-sidecar (seed section 4)', () => {
  it('runs both containers', async () => {
    const ready = await kubectl([
      '-n',
      ns,
      'get',
      'pod',
      'nginx-with-sidecar',
      '-o',
      'jsonpath={.status.containerStatuses[*].ready}',
    ]);
    expect(ready.split(' ')).toEqual(['true', 'true']);
  });

  it('shows the sidecar line in kubectl logs -c sidecar-logger', async () => {
    const logs = await kubectl(['-n', ns, 'logs', 'nginx-with-sidecar', '-c', 'sidecar-logger']);
    expect(logs).toContain('Logging from sidecar container');
  });

  it('streams new lines with kubectl logs -f', async () => {
    const child = kubectlStream(['-n', ns, 'logs', '-f', '--tail=0', 'nginx-with-sidecar', '-c', 'sidecar-logger']);
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no streamed line within 25 s')), 25_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          clearTimeout(timer);
          resolve(chunk.toString());
        });
        child.on('exit', (code) => reject(new Error(`kubectl logs -f exited with ${code}`)));
      });
      expect(line).toContain('Logging from sidecar container');
    } finally {
      child.kill();
    }
  });

  it('runs commands with kubectl exec, and the sidecar reaches nginx on localhost (shared network)', async () => {
    const page = await kubectl([
      '-n',
      ns,
      'exec',
      'nginx-with-sidecar',
      '-c',
      'sidecar-logger',
      '--',
      'wget',
      '-qO-',
      'http://localhost:80/',
    ]);
    expect(page).toContain('Welcome to nginx!');
  });
});

describe('logging-sidecar-example (seed section 5.1)', () => {
  it("shows a request to nginx in the log-collector's output", async () => {
    const marker = `/seed-test-${Date.now()}`;
    // nginx answers 404 for the marker path but still logs the request, which is what the collector tails.
    await kubectl([
      '-n',
      ns,
      'exec',
      'logging-sidecar-example',
      '-c',
      'log-collector',
      '--',
      'sh',
      '-c',
      `wget -qO- http://localhost${marker} || true`,
    ]);
    const logs = await waitFor(
      'the request in log-collector logs',
      async () => {
        const out = await kubectl(['-n', ns, 'logs', 'logging-sidecar-example', '-c', 'log-collector']);
        return out.includes(marker) && out;
      },
      15_000,
    );
    expect(logs).toMatch(new RegExp(`"GET ${marker} HTTP/1.1" 404`));
  });
});
