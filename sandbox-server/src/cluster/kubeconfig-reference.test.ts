// Our kubeconfig reader against @kubernetes/client-node as the reference: the same files, read by both, must name the
// same server and give the same credentials and TLS settings. client-node is a development dependency, used here only.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig as ReferenceKubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { connectionFor } from './credentials.ts';
import { loadKubeConfig } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-reference-'));
const pem = (what: string) => `-----BEGIN ${what}-----\nMIIB${what.replace(/\W/g, '')}\n-----END ${what}-----\n`;
writeFileSync(join(dir, 'ca.crt'), pem('CERTIFICATE AUTHORITY'));
writeFileSync(join(dir, 'client.crt'), pem('CERTIFICATE'));
writeFileSync(join(dir, 'client.key'), pem('PRIVATE KEY'));
writeFileSync(join(dir, 'token'), 'token-from-file\n');
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A one-context kubeconfig file with this cluster and user. */
function file(name: string, cluster: object, user: object): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'main', context: { cluster: 'c', user: 'u', namespace: 'ns' } }],
      'current-context': 'main',
    }),
  );
  return path;
}

const fixtures: Record<string, string> = {
  'token, CA file': file(
    'token.json',
    { server: 'https://a.example:6443', 'certificate-authority': 'ca.crt' },
    { token: 'abc' },
  ),
  'token file': file('token-file.json', { server: 'https://b.example' }, { tokenFile: 'token' }),
  'client certificate files, relative paths': file(
    'cert-files.json',
    { server: 'https://c.example:443/prefix', 'certificate-authority': 'ca.crt' },
    { 'client-certificate': 'client.crt', 'client-key': 'client.key' },
  ),
  'inline CA and client certificate': file(
    'cert-data.json',
    { server: 'https://d.example', 'certificate-authority-data': b64(pem('CERTIFICATE AUTHORITY')) },
    { 'client-certificate-data': b64(pem('CERTIFICATE')), 'client-key-data': b64(pem('PRIVATE KEY')) },
  ),
  'insecure, TLS server name, basic auth': file(
    'insecure.json',
    { server: 'https://10.0.0.1:6443', 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes' },
    { username: 'admin', password: 'secret' },
  ),
  impersonation: file(
    'as.json',
    { server: 'https://e.example' },
    { token: 't', as: 'jane', 'as-groups': ['devs', 'ops'] },
  ),
};

/** What the reference would send: server, auth headers, TLS options. */
async function reference(path: string) {
  const kc = new ReferenceKubeConfig();
  kc.loadFromFile(path);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const headers = Object.fromEntries(
    Object.entries(options.headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
  );
  if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  return {
    server: kc.getCurrentCluster()?.server.replace(/\/+$/, ''),
    namespace: kc.getContextObject(kc.getCurrentContext())?.namespace,
    headers,
    ca: options.ca?.toString(),
    cert: options.cert?.toString(),
    key: options.key?.toString(),
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    servername: options.servername,
  };
}

/** What our client sends for the same file. */
async function ours(path: string) {
  const kc = loadKubeConfig({ kubeconfig: path });
  const connection = await connectionFor(kc);
  const headers = Object.fromEntries(
    Object.entries(connection.headers).map(([key, value]) => [
      key.toLowerCase(),
      Array.isArray(value) ? value.join(',') : value,
    ]),
  );
  return {
    server: connection.server,
    namespace: kc.getCurrentContext()?.namespace,
    headers,
    ca: connection.tls.ca,
    cert: connection.tls.cert,
    key: connection.tls.key,
    rejectUnauthorized: connection.tls.rejectUnauthorized,
    servername: connection.tls.servername,
  };
}

/**
 * Where client-node falls short of kubectl and we follow kubectl: the header we send that it does not, and its value.
 * (client-node reads a token file only through an auth provider, and knows `as` but not `as-groups`.)
 */
const kubectlOnly: Record<string, { header: string; value: string }> = {
  'token file': { header: 'authorization', value: 'Bearer token-from-file' },
  impersonation: { header: 'impersonate-group', value: 'devs,ops' },
};

describe('kubeconfig files read by our client and by client-node', () => {
  for (const [name, path] of Object.entries(fixtures)) {
    it(`agree on server, credentials and TLS: ${name}`, async () => {
      const [theirs, mine] = await Promise.all([reference(path), ours(path)]);
      const extra = kubectlOnly[name];
      if (extra) {
        expect(mine.headers[extra.header]).toBe(extra.value);
        expect(theirs.headers[extra.header]).toBeUndefined();
        delete mine.headers[extra.header];
      }
      expect(mine).toEqual(theirs);
    });
  }
});
