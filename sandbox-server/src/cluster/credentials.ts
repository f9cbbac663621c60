// How to reach the current context's API server: its URL, TLS material and auth headers (tokens, exec plugins).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ExecPlugin, KubeCluster, KubeConfig, KubeUser } from './kubeconfig-file.ts';

/** TLS options for node:https and ws alike. */
export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** Everything a request needs to reach the API server as the current user. */
export interface Connection {
  /** The server URL without a trailing slash; request paths are appended to it (it may carry a path prefix). */
  server: string;
  tls: TlsOptions;
  headers: Record<string, string | string[]>;
  /** True when the credential came from an exec plugin or a token file, which may be stale after a 401. */
  renewable: boolean;
}

const execCredentialSchema = z.object({
  status: z.object({
    token: z.string().optional(),
    clientCertificateData: z.string().optional(),
    clientKeyData: z.string().optional(),
    expirationTimestamp: z.string().optional(),
  }),
});

interface PluginCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** Epoch ms; undefined means "until the API server refuses it". */
  expiresAt?: number;
}

/** Refresh a plugin credential this long before it expires, so no request goes out with one about to lapse. */
const EXPIRY_MARGIN_MS = 10_000;
const PLUGIN_TIMEOUT_MS = 60_000;
const pluginCache = new Map<string, Promise<PluginCredential>>();

/** The ExecCredential request a plugin reads from KUBERNETES_EXEC_INFO. */
export function execInfo(plugin: ExecPlugin, cluster: KubeCluster): string {
  const clusterInfo = {
    server: cluster.server,
    ...(cluster.caData ? { 'certificate-authority-data': Buffer.from(cluster.caData).toString('base64') } : {}),
    ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
  };
  const spec = { interactive: false, ...(plugin.provideClusterInfo ? { cluster: clusterInfo } : {}) };
  return JSON.stringify({ apiVersion: plugin.apiVersion, kind: 'ExecCredential', spec });
}

/** Parses a plugin's stdout into a credential; throws when it has neither a token nor a certificate and key. */
export function parseExecCredential(stdout: string, command: string): PluginCredential {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`credential plugin ${command} did not print an ExecCredential (JSON)`);
  }
  const parsed = execCredentialSchema.safeParse(json);
  if (!parsed.success) throw new Error(`credential plugin ${command} printed an ExecCredential without a status`);
  const { token, clientCertificateData: cert, clientKeyData: key, expirationTimestamp } = parsed.data.status;
  if (!token && !(cert && key)) {
    throw new Error(`credential plugin ${command} gave neither a token nor a client certificate and key`);
  }
  const expiresAt = expirationTimestamp ? Date.parse(expirationTimestamp) : undefined;
  return {
    ...(token ? { token } : {}),
    ...(cert && key ? { cert, key } : {}),
    ...(expiresAt !== undefined && !Number.isNaN(expiresAt) ? { expiresAt } : {}),
  };
}

function runPlugin(plugin: ExecPlugin, cluster: KubeCluster): Promise<PluginCredential> {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: execInfo(plugin, cluster) };
  for (const { name, value } of plugin.env) env[name] = value;
  return new Promise((resolve, reject) => {
    execFile(
      plugin.command,
      plugin.args,
      { env, timeout: PLUGIN_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const hint = (error as NodeJS.ErrnoException).code === 'ENOENT' && plugin.installHint;
          const detail = hint || stderr.trim().split('\n').slice(-3).join(' ') || error.message;
          return reject(new Error(`credential plugin ${plugin.command} failed: ${detail}`));
        }
        try {
          resolve(parseExecCredential(stdout, plugin.command));
        } catch (parseError) {
          reject(parseError);
        }
      },
    );
  });
}

/** The plugin's credential, run once and cached until shortly before it expires. */
function pluginCredential(plugin: ExecPlugin, cluster: KubeCluster): Promise<PluginCredential> {
  const key = JSON.stringify([plugin, cluster.server]);
  const cached = pluginCache.get(key);
  if (cached) {
    return cached.then((credential) => {
      if (credential.expiresAt === undefined || credential.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return credential;
      if (pluginCache.get(key) === cached) pluginCache.delete(key);
      return pluginCredential(plugin, cluster);
    });
  }
  const running = runPlugin(plugin, cluster);
  pluginCache.set(key, running);
  running.catch(() => {
    if (pluginCache.get(key) === running) pluginCache.delete(key); // do not cache a failure
  });
  return running;
}

/** Token files are re-read now and then: projected ServiceAccount tokens rotate. */
const TOKEN_FILE_TTL_MS = 60_000;
const tokenFiles = new Map<string, { token: string; readAt: number }>();

/**
 * Forgets cached plugin credentials and token files (after the API server answered 401), so the next request runs
 * the plugin or reads the file again: a rotated token is picked up at once, not after the re-read interval.
 */
export function forgetCachedCredentials(): void {
  pluginCache.clear();
  tokenFiles.clear();
}

async function tokenFromFile(path: string): Promise<string> {
  const cached = tokenFiles.get(path);
  if (cached && Date.now() - cached.readAt < TOKEN_FILE_TTL_MS) return cached.token;
  const token = (await readFile(path, 'utf8')).trim();
  tokenFiles.set(path, { token, readAt: Date.now() });
  return token;
}

async function authFor(user: KubeUser, cluster: KubeCluster): Promise<{ headers: Connection['headers']; tls: object }> {
  if (user.authProvider) {
    throw new Error(
      `user ${user.name} uses auth-provider "${user.authProvider}", which is not supported; use an exec plugin`,
    );
  }
  const clientCert = user.certData && user.keyData ? { cert: user.certData, key: user.keyData } : {};
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  if (user.exec) {
    const credential = await pluginCredential(user.exec, cluster);
    return {
      headers: credential.token ? bearer(credential.token) : {},
      tls: credential.cert && credential.key ? { cert: credential.cert, key: credential.key } : clientCert,
    };
  }
  if (user.token) return { headers: bearer(user.token), tls: clientCert };
  if (user.tokenFile) return { headers: bearer(await tokenFromFile(user.tokenFile)), tls: clientCert };
  if (user.username !== undefined) {
    const basic = Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64');
    return { headers: { Authorization: `Basic ${basic}` }, tls: clientCert };
  }
  return { headers: {}, tls: clientCert };
}

/** Why a cluster reached through `proxy-url` is refused, in words a user can act on. */
export function proxyRefusal(cluster: KubeCluster): string {
  return `cluster "${cluster.name}" sets proxy-url (${cluster.proxyUrl}), which Sidecar Lab's cluster client does not support: run the server where it reaches the API server directly, or remove proxy-url`;
}

/** Resolves the current context into a Connection; runs the exec plugin when its credential is missing or expiring. */
export async function connectionFor(kc: KubeConfig): Promise<Connection> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current context with a cluster');
  if (cluster.proxyUrl) throw new Error(proxyRefusal(cluster));
  const user = kc.getCurrentUser() ?? { name: '' };
  const auth = await authFor(user, cluster);
  const headers = { ...auth.headers };
  if (user.impersonate) headers['Impersonate-User'] = user.impersonate;
  if (user.impersonateUid) headers['Impersonate-Uid'] = user.impersonateUid;
  if (user.impersonateGroups?.length) headers['Impersonate-Group'] = user.impersonateGroups;
  for (const [key, values] of Object.entries(user.impersonateExtra ?? {})) {
    headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
  }
  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls: {
      ...(cluster.caData ? { ca: cluster.caData } : {}),
      ...auth.tls,
      rejectUnauthorized: !cluster.skipTLSVerify,
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    },
    headers,
    renewable: Boolean(user.exec || user.tokenFile),
  };
}
