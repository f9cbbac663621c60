// Kubeconfig resolution: explicit file, then KUBECONFIG, then the local cluster's; clear errors otherwise.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeconfigError, loadKubeConfig } from './kubeconfig.ts';

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
  saved = { KUBECONFIG: process.env.KUBECONFIG, SIDECAR_LAB_STATE: process.env.SIDECAR_LAB_STATE };
  delete process.env.KUBECONFIG;
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
});
