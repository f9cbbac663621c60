// Kubeconfig resolution: explicit file, then KUBECONFIG, then the local cluster's; clear errors otherwise.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inClusterConfig, KubeconfigError, loadKubeConfig } from './kubeconfig.ts';
import { parseKubeconfig } from './kubeconfig-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
function kubeconfig(name: string, server: string, contexts = ['main']): string {
  const file = join(dir, name);
  const body = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: contexts.map((n) => ({ name: n, context: { cluster: 'c', user: 'u' } })),
    'current-context': contexts[0],
  };
  writeFileSync(file, JSON.stringify(body));
  return file;
}

let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = {
    KUBECONFIG: process.env.KUBECONFIG,
    SIDECAR_LAB_STATE: process.env.SIDECAR_LAB_STATE,
    HOME: process.env.HOME,
  };
  delete process.env.KUBECONFIG;
  process.env.HOME = join(dir, 'empty-home');
  process.env.SIDECAR_LAB_STATE = join(dir, 'no-local-cluster');
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('loadKubeConfig', () => {
  it('prefers the explicit file over KUBECONFIG', () => {
    process.env.KUBECONFIG = kubeconfig('env.json', 'https://env.example:6443');
    const explicit = kubeconfig('explicit.json', 'https://explicit.example:6443');
    expect(loadKubeConfig({ kubeconfig: explicit }).getCurrentCluster()?.server).toBe('https://explicit.example:6443');
    expect(loadKubeConfig().getCurrentCluster()?.server).toBe('https://env.example:6443');
  });

  it('falls back to the local cluster admin kubeconfig', () => {
    process.env.SIDECAR_LAB_STATE = dir;
    mkdirSync(join(dir, 'kubeconfig'), { recursive: true });
    kubeconfig('kubeconfig/admin.kubeconfig', 'https://10.240.0.1:6443');
    expect(loadKubeConfig().getCurrentCluster()?.server).toBe('https://10.240.0.1:6443');
  });

  it('selects a context by name and lists the ones it has when it is missing', () => {
    const file = kubeconfig('two.json', 'https://x.example', ['main', 'other']);
    expect(loadKubeConfig({ kubeconfig: file, context: 'other' }).currentContext).toBe('other');
    expect(() => loadKubeConfig({ kubeconfig: file, context: 'nope' })).toThrow(
      /context "nope" is not in the kubeconfig \(it has: main, other\)/,
    );
  });

  it('says what was tried when nothing is found', () => {
    expect(() => loadKubeConfig()).toThrow(KubeconfigError);
    expect(() => loadKubeConfig()).toThrow(/pass --kubeconfig FILE, set KUBECONFIG, or start the local cluster/);
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'missing') })).toThrow(
      /--kubeconfig: kubeconfig file .* does not exist/,
    );
    process.env.KUBECONFIG = join(dir, 'gone-a');
    expect(() => loadKubeConfig()).toThrow(/KUBECONFIG: none of its files exist/);
  });

  it("for a cluster the user chose, falls back to ~/.kube/config as kubectl does, never to the local cluster's", () => {
    process.env.SIDECAR_LAB_STATE = dir; // a local cluster's admin kubeconfig exists…
    mkdirSync(join(dir, 'kubeconfig'), { recursive: true });
    kubeconfig('kubeconfig/admin.kubeconfig', 'https://10.240.0.1:6443');
    expect(() => loadKubeConfig({ fallback: 'user' })).toThrow(
      /set KUBECONFIG or pass --kubeconfig FILE .*\.kube\/config does not exist/,
    );
    process.env.HOME = join(dir, 'home');
    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    kubeconfig('home/.kube/config', 'https://users-cluster.example:6443');
    expect(loadKubeConfig({ fallback: 'user' }).getCurrentCluster()?.server).toBe('https://users-cluster.example:6443');
  });

  it('refuses a cluster reached through proxy-url, naming it', () => {
    const file = join(dir, 'proxied.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [
          { name: 'far', cluster: { server: 'https://far.example', 'proxy-url': 'http://proxy.example:3128' } },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'main', context: { cluster: 'far', user: 'u' } }],
        'current-context': 'main',
      }),
    );
    expect(() => loadKubeConfig({ kubeconfig: file })).toThrow(
      /cluster "far" sets proxy-url \(http:\/\/proxy.example:3128\)/,
    );
  });
});

describe('unknown kubeconfig settings', () => {
  it('are reported with their path, while what kubectl keeps for itself is not', () => {
    const kc = parseKubeconfig(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        preferences: {},
        clusters: [
          {
            name: 'c',
            cluster: { server: 'https://x', 'disable-compression': true, 'certificate-authority-dta': 'typo' },
          },
        ],
        users: [
          {
            name: 'u',
            user: {
              token: 't',
              'oidc-issuer': 'x',
              exec: { apiVersion: 'v1', command: 'x', interactiveMode: 'Never', cacheDir: '/tmp' },
            },
          },
        ],
        contexts: [{ name: 'm', context: { cluster: 'c', user: 'u' }, extra: 1 }],
        'current-context': 'm',
        colors: true,
      }),
      dir,
    );
    expect(kc.ignored).toEqual([
      'colors',
      'clusters[0].cluster.certificate-authority-dta',
      'users[0].user.oidc-issuer',
      'users[0].user.exec.cacheDir',
      'contexts[0].extra',
    ]);
  });
});

describe('inClusterConfig', () => {
  it("reads the Pod's ServiceAccount: API server from the environment, CA, namespace, and the token as a file", () => {
    const sa = join(dir, 'serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'abc');
    writeFileSync(join(sa, 'ca.crt'), 'PEM');
    writeFileSync(join(sa, 'namespace'), 'sidecar-lab\n');
    const kc = inClusterConfig(sa, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' });
    expect(kc?.getCurrentCluster()).toMatchObject({ server: 'https://[fd00::1]:443', caData: 'PEM' });
    expect(kc?.getCurrentUser()).toMatchObject({ tokenFile: join(sa, 'token') });
    expect(kc?.getCurrentContext()?.namespace).toBe('sidecar-lab');
    expect(inClusterConfig(sa, {})).toBeUndefined();
    expect(
      inClusterConfig(join(dir, 'nowhere'), { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' }),
    ).toBeUndefined();
  });
});
