// Credentials: static tokens and certificates, token files, impersonation headers, and real exec plugin runs.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionFor, execInfo, forgetCachedCredentials, parseExecCredential } from './credentials.ts';
import { type ExecPlugin, KubeConfig, type KubeUser } from './kubeconfig-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'credentials-'));
const cluster = { name: 'c', server: 'https://api.example:6443/', caData: 'CA' };
const configFor = (user: KubeUser) =>
  new KubeConfig({
    clusters: [cluster],
    users: [user],
    contexts: [{ name: 'x', cluster: 'c', user: user.name }],
    currentContext: 'x',
  });

/** A credential plugin: a shell script that counts its runs and prints what `body` says. */
function plugin(name: string, body: string): ExecPlugin {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho run >> "${file}.runs"\n${body}\n`);
  chmodSync(file, 0o755);
  return { apiVersion: 'client.authentication.k8s.io/v1', command: file, args: [], env: [], provideClusterInfo: true };
}
const runs = (p: ExecPlugin) => readFileSync(`${p.command}.runs`, 'utf8').split('\n').filter(Boolean).length;

describe('connectionFor', () => {
  it('uses a token, a client certificate and the cluster CA, and adds impersonation headers', async () => {
    const connection = await connectionFor(
      configFor({
        name: 'u',
        token: 'secret',
        certData: 'CERT',
        keyData: 'KEY',
        impersonate: 'bob',
        impersonateGroups: ['g1', 'g2'],
      }),
    );
    expect(connection).toEqual({
      server: 'https://api.example:6443',
      tls: { ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true },
      headers: { Authorization: 'Bearer secret', 'Impersonate-User': 'bob', 'Impersonate-Group': ['g1', 'g2'] },
      renewable: false,
    });
  });

  it('reads a token file', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'from-file\n');
    const connection = await connectionFor(configFor({ name: 'u', tokenFile }));
    expect(connection.headers).toEqual({ Authorization: 'Bearer from-file' });
  });

  it('refuses an auth-provider user with a clear message', async () => {
    await expect(connectionFor(configFor({ name: 'u', authProvider: 'gcp' }))).rejects.toThrow(
      /auth-provider "gcp", which is not supported/,
    );
  });

  it('runs an exec plugin once and reuses its token until shortly before it expires', async () => {
    forgetCachedCredentials();
    const later = new Date(Date.now() + 3600_000).toISOString();
    const p = plugin(
      'long',
      // The plugin sees the cluster it is asked about in KUBERNETES_EXEC_INFO.
      `echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"tok-$(echo "$KUBERNETES_EXEC_INFO" | grep -c api.example)\\",\\"expirationTimestamp\\":\\"${later}\\"}}"`,
    );
    const kc = configFor({ name: 'u', exec: p });
    const [a, b] = await Promise.all([connectionFor(kc), connectionFor(kc)]);
    expect(a.headers).toEqual({ Authorization: 'Bearer tok-1' });
    expect(b.headers).toEqual(a.headers);
    expect((await connectionFor(kc)).renewable).toBe(true);
    expect(runs(p)).toBe(1);
  });

  it('runs the plugin again when its credential has expired, and takes a client certificate from it', async () => {
    forgetCachedCredentials();
    const past = new Date(Date.now() - 1000).toISOString();
    const p = plugin(
      'short',
      `echo '{"status":{"clientCertificateData":"PLUGIN CERT","clientKeyData":"PLUGIN KEY","expirationTimestamp":"${past}"}}'`,
    );
    const kc = configFor({ name: 'u', exec: p });
    const first = await connectionFor(kc);
    expect(first.tls).toMatchObject({ cert: 'PLUGIN CERT', key: 'PLUGIN KEY' });
    expect(first.headers).toEqual({});
    await connectionFor(kc);
    expect(runs(p)).toBe(2);
  });

  it('reports a failing plugin with its stderr, and does not cache the failure', async () => {
    forgetCachedCredentials();
    const p = plugin('broken', 'echo "login required" >&2; exit 1');
    const kc = configFor({ name: 'u', exec: p });
    await expect(connectionFor(kc)).rejects.toThrow(/credential plugin .*broken failed: login required/);
    await expect(connectionFor(kc)).rejects.toThrow(/login required/);
    expect(runs(p)).toBe(2);
  });
});

describe('exec plugin protocol', () => {
  it('describes the cluster to the plugin when asked to', () => {
    const p = plugin('info', 'true');
    expect(JSON.parse(execInfo(p, { ...cluster, skipTLSVerify: true }))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: 'https://api.example:6443/',
          'certificate-authority-data': Buffer.from('CA').toString('base64'),
          'insecure-skip-tls-verify': true,
        },
      },
    });
    expect(JSON.parse(execInfo({ ...p, provideClusterInfo: false }, cluster)).spec).toEqual({ interactive: false });
  });

  it('accepts v1beta1 output and refuses output without a credential', () => {
    expect(
      parseExecCredential('{"apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}', 'p'),
    ).toEqual({ token: 't' });
    expect(() => parseExecCredential('{"status":{}}', 'p')).toThrow(/neither a token nor a client certificate/);
    expect(() => parseExecCredential('Please log in', 'p')).toThrow(/did not print an ExecCredential/);
  });
});
