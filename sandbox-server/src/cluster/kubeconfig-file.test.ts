// Kubeconfig files: data and file references, relative paths, merging first-wins, impersonation.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeKubeconfigs, parseKubeconfig, readKubeconfigFile } from './kubeconfig-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-file-'));
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('parseKubeconfig', () => {
  it('reads inline data and files, the latter relative to the kubeconfig', () => {
    mkdirSync(join(dir, 'pki'), { recursive: true });
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA FROM FILE');
    writeFileSync(join(dir, 'pki', 'me.key'), 'KEY FROM FILE');
    const kc = parseKubeconfig(
      `
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: https://a.example:6443, certificate-authority: pki/ca.crt, tls-server-name: api.internal}
- name: b
  cluster: {server: https://b.example, certificate-authority-data: ${b64('CA DATA')}, insecure-skip-tls-verify: true}
users:
- name: cert
  user: {client-certificate-data: ${b64('CERT DATA')}, client-key: pki/me.key}
- name: tok
  user: {tokenFile: secrets/token, as: alice, as-groups: [devs]}
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, a]
      env: [{name: REGION, value: eu}]
      provideClusterInfo: true
contexts:
- name: one
  context: {cluster: a, user: cert, namespace: work}
- name: two
  context: {cluster: b, user: tok}
current-context: one
`,
      dir,
    );
    expect(kc.getCurrentCluster()).toEqual({
      name: 'a',
      server: 'https://a.example:6443',
      caData: 'CA FROM FILE',
      tlsServerName: 'api.internal',
    });
    expect(kc.getCurrentUser()).toEqual({ name: 'cert', certData: 'CERT DATA', keyData: 'KEY FROM FILE' });
    expect(kc.getCurrentContext()?.namespace).toBe('work');
    kc.setCurrentContext('two');
    expect(kc.getCurrentCluster()).toMatchObject({ caData: 'CA DATA', skipTLSVerify: true });
    expect(kc.getCurrentUser()).toEqual({
      name: 'tok',
      tokenFile: join(dir, 'secrets', 'token'),
      impersonate: 'alice',
      impersonateGroups: ['devs'],
    });
    expect(kc.users.find((u) => u.name === 'plugin')?.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: join(dir, 'bin', 'get-token'),
      args: ['--cluster', 'a'],
      env: [{ name: 'REGION', value: 'eu' }],
      provideClusterInfo: true,
    });
  });

  it('takes an empty file as an empty config, and names the field that is wrong', () => {
    expect(parseKubeconfig('', dir).contexts).toEqual([]);
    expect(() => parseKubeconfig('clusters: [{name: a, cluster: {server: 7}}]', dir)).toThrow(
      /invalid kubeconfig at clusters\.0\.cluster\.server/,
    );
  });

  it('fails when a referenced file is missing', () => {
    expect(() =>
      parseKubeconfig('clusters: [{name: a, cluster: {server: https://x, certificate-authority: gone.crt}}]', dir),
    ).toThrow(/gone\.crt/);
  });
});

describe('mergeKubeconfigs', () => {
  it('lets the first file that names a cluster, user or context win, and the first current-context', () => {
    const first = join(dir, 'first.yaml');
    const second = join(dir, 'second.yaml');
    writeFileSync(
      first,
      'clusters: [{name: c, cluster: {server: https://first}}]\nusers: [{name: u, user: {token: one}}]\n',
    );
    writeFileSync(
      second,
      [
        'clusters: [{name: c, cluster: {server: https://second}}, {name: d, cluster: {server: https://d}}]',
        'users: [{name: u, user: {token: two}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: d, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const kc = mergeKubeconfigs([readKubeconfigFile(first), readKubeconfigFile(second)]);
    expect(kc.currentContext).toBe('x');
    expect(kc.getCurrentCluster()?.server).toBe('https://first');
    expect(kc.getCurrentUser()?.token).toBe('one');
    expect(kc.clusters.map((c) => c.name)).toEqual(['c', 'd']);
  });
});

describe('KubeConfig.impersonating', () => {
  it('copies the config with the current user acting as another, leaving the original alone', () => {
    const kc = parseKubeconfig(
      'clusters: [{name: c, cluster: {server: https://c}}]\nusers: [{name: u, user: {token: t, as-groups: [g]}}]\n' +
        'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      dir,
    );
    const copy = kc.impersonating('system:serviceaccount:ns:checker');
    expect(copy.getCurrentUser()).toEqual({
      name: 'u',
      token: 't',
      impersonate: 'system:serviceaccount:ns:checker',
      impersonateGroups: [],
    });
    expect(kc.getCurrentUser()?.impersonate).toBeUndefined();
  });
});
