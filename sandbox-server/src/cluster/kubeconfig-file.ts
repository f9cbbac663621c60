// Reads kubectl's kubeconfig format: clusters, users and contexts, several files merged first-wins, into a KubeConfig.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const execEnv = z.array(z.object({ name: z.string(), value: z.string() })).nullish();

// Each level's fields as a plain shape, so the same object gives the schema and the list of keys we read.
const clusterFields = {
  server: z.string().optional(),
  'certificate-authority': z.string().optional(),
  'certificate-authority-data': z.string().optional(),
  'insecure-skip-tls-verify': z.boolean().optional(),
  'tls-server-name': z.string().optional(),
  'proxy-url': z.string().optional(),
};
const execFields = {
  apiVersion: z.string(),
  command: z.string().min(1),
  args: z.array(z.string()).nullish(),
  env: execEnv,
  provideClusterInfo: z.boolean().optional(),
  installHint: z.string().optional(),
};
const userFields = {
  token: z.string().optional(),
  tokenFile: z.string().optional(),
  'client-certificate': z.string().optional(),
  'client-certificate-data': z.string().optional(),
  'client-key': z.string().optional(),
  'client-key-data': z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** kubectl's --as, --as-uid, --as-group and --as-user-extra, kept in the file. */
  as: z.string().optional(),
  'as-uid': z.string().optional(),
  'as-groups': z.array(z.string()).nullish(),
  'as-user-extra': z.record(z.string(), z.array(z.string())).nullish(),
  exec: z.object(execFields).optional(),
  'auth-provider': z.object({ name: z.string() }).optional(),
};
const contextFields = { cluster: z.string(), user: z.string().optional(), namespace: z.string().optional() };
const fileFields = {
  clusters: z.array(z.object({ name: z.string().min(1), cluster: z.object(clusterFields).optional() })).nullish(),
  users: z.array(z.object({ name: z.string().min(1), user: z.object(userFields).optional() })).nullish(),
  contexts: z.array(z.object({ name: z.string().min(1), context: z.object(contextFields).optional() })).nullish(),
  'current-context': z.string().nullish(),
};

/**
 * The part of a kubeconfig file we use. Keys outside it are not dropped silently: `unknownKeys` names them, and the
 * server logs them, so a setting we do not apply never goes unnoticed.
 */
const kubeconfigFileSchema = z.object(fileFields);

/** Keys kubectl knows that change nothing for us: metadata, and settings for interactive use. */
const HARMLESS = ['apiVersion', 'kind', 'preferences', 'extensions', 'disable-compression', 'interactiveMode'];
const known = (fields: object, ...more: string[]) => new Set([...Object.keys(fields), ...HARMLESS, ...more]);

/** Paths of keys in the raw file that this client does not read, e.g. `users[0].user.oidc-issuer`. */
export function unknownKeys(raw: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown, keys: Set<string>, where: string) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    for (const key of Object.keys(value)) if (!keys.has(key)) found.push(where ? `${where}.${key}` : key);
  };
  const file = (raw ?? {}) as Record<string, unknown>;
  visit(file, known(fileFields), '');
  const levels = [
    ['clusters', 'cluster', clusterFields],
    ['users', 'user', userFields],
    ['contexts', 'context', contextFields],
  ] as const;
  for (const [list, field, fields] of levels) {
    const entries = Array.isArray(file[list]) ? (file[list] as Array<Record<string, unknown> | null>) : [];
    entries.forEach((entry, index) => {
      const where = `${list}[${index}]`;
      visit(entry, known({ name: 0, [field]: 0 }), where);
      const inner = entry?.[field] as Record<string, unknown> | undefined;
      visit(inner, known(fields), `${where}.${field}`);
      if (list === 'users') visit(inner?.exec, known(execFields), `${where}.user.exec`);
    });
  }
  return found;
}

/** One API server and how to trust it; certificates are PEM text. */
export interface KubeCluster {
  name: string;
  server: string;
  caData?: string;
  skipTLSVerify?: boolean;
  tlsServerName?: string;
  /** Set when the file asks for an HTTP proxy, which our client does not speak: choosing this cluster fails. */
  proxyUrl?: string;
}

/** A credential plugin (client.authentication.k8s.io), run to obtain a token or a client certificate. */
export interface ExecPlugin {
  apiVersion: string;
  command: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  provideClusterInfo: boolean;
  installHint?: string;
}

/** One identity: the first of token, token file, client certificate, basic auth or exec plugin that is set. */
export interface KubeUser {
  name: string;
  token?: string;
  tokenFile?: string;
  certData?: string;
  keyData?: string;
  username?: string;
  password?: string;
  exec?: ExecPlugin;
  /** Set when the file names an auth provider (gcp, oidc, …), which we do not support. */
  authProvider?: string;
  /** Impersonate-User: act as this user. */
  impersonate?: string;
  impersonateUid?: string;
  impersonateGroups?: string[];
  /** Impersonate-Extra-<key> headers. */
  impersonateExtra?: Record<string, string[]>;
}

export interface KubeContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

/** Resolved kubeconfig: every referenced file already read, so using it needs no paths. */
export class KubeConfig {
  readonly clusters: readonly KubeCluster[];
  readonly users: readonly KubeUser[];
  readonly contexts: readonly KubeContext[];
  currentContext: string;
  /** Settings found in the files that this client does not apply (`users[0].user.foo`), for the log. */
  readonly ignored: readonly string[];

  constructor(parts: {
    clusters?: readonly KubeCluster[];
    users?: readonly KubeUser[];
    contexts?: readonly KubeContext[];
    currentContext?: string;
    ignored?: readonly string[];
  }) {
    this.clusters = parts.clusters ?? [];
    this.users = parts.users ?? [];
    this.contexts = parts.contexts ?? [];
    this.currentContext = parts.currentContext ?? '';
    this.ignored = parts.ignored ?? [];
  }

  getContexts(): readonly KubeContext[] {
    return this.contexts;
  }

  getCurrentContext(): KubeContext | undefined {
    return this.contexts.find((c) => c.name === this.currentContext);
  }

  setCurrentContext(name: string): void {
    this.currentContext = name;
  }

  getCurrentCluster(): KubeCluster | undefined {
    const context = this.getCurrentContext();
    return context && this.clusters.find((c) => c.name === context.cluster);
  }

  getCurrentUser(): KubeUser | undefined {
    const context = this.getCurrentContext();
    return context && this.users.find((u) => u.name === context.user);
  }

  /** A copy whose current user acts as `user` (Impersonate-User), for REST calls and exec alike. */
  impersonating(user: string): KubeConfig {
    const current = this.getCurrentUser();
    if (!current) throw new Error('the kubeconfig has no current user to impersonate from');
    return new KubeConfig({
      ...this,
      users: this.users.map((u) => (u === current ? { ...u, impersonate: user, impersonateGroups: [] } : u)),
    });
  }
}

type KubeconfigFile = z.infer<typeof kubeconfigFileSchema>;

const decode = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

/** Parses one file's text; relative paths inside it are resolved against `dir`, as kubectl does. */
export function parseKubeconfig(text: string, dir: string): KubeConfig {
  const raw = (parseYaml(text) as unknown) ?? {}; // an empty file is an empty config
  const parsed = kubeconfigFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid kubeconfig at ${issue?.path.join('.') || 'top level'}: ${issue?.message}`);
  }
  return resolveFile(parsed.data, dir, unknownKeys(raw));
}

function resolveFile(file: KubeconfigFile, dir: string, ignored: string[] = []): KubeConfig {
  const path = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const read = (p: string) => readFileSync(path(p), 'utf8');
  const clusters = (file.clusters ?? []).flatMap(({ name, cluster }): KubeCluster[] => {
    if (!cluster?.server) return []; // kubectl skips a cluster without a server too
    const ca = cluster['certificate-authority-data'];
    const caFile = cluster['certificate-authority'];
    return [
      {
        name,
        server: cluster.server,
        ...(ca ? { caData: decode(ca) } : caFile ? { caData: read(caFile) } : {}),
        ...(cluster['insecure-skip-tls-verify'] ? { skipTLSVerify: true } : {}),
        ...(cluster['tls-server-name'] ? { tlsServerName: cluster['tls-server-name'] } : {}),
        ...(cluster['proxy-url'] ? { proxyUrl: cluster['proxy-url'] } : {}),
      },
    ];
  });
  const users = (file.users ?? []).map(({ name, user = {} }): KubeUser => {
    const cert = user['client-certificate-data'];
    const certFile = user['client-certificate'];
    const key = user['client-key-data'];
    const keyFile = user['client-key'];
    const exec = user.exec;
    return {
      name,
      ...(user.token ? { token: user.token } : {}),
      ...(user.tokenFile ? { tokenFile: path(user.tokenFile) } : {}),
      ...(cert ? { certData: decode(cert) } : certFile ? { certData: read(certFile) } : {}),
      ...(key ? { keyData: decode(key) } : keyFile ? { keyData: read(keyFile) } : {}),
      ...(user.username !== undefined ? { username: user.username, password: user.password ?? '' } : {}),
      ...(user.as ? { impersonate: user.as } : {}),
      ...(user['as-uid'] ? { impersonateUid: user['as-uid'] } : {}),
      ...(user['as-groups']?.length ? { impersonateGroups: user['as-groups'] } : {}),
      ...(user['as-user-extra'] ? { impersonateExtra: user['as-user-extra'] } : {}),
      ...(user['auth-provider'] ? { authProvider: user['auth-provider'].name } : {}),
      ...(exec
        ? {
            exec: {
              apiVersion: exec.apiVersion,
              // A command with a slash is relative to the kubeconfig file; a bare name is looked up in PATH.
              command: exec.command.includes('/') ? path(exec.command) : exec.command,
              args: exec.args ?? [],
              env: exec.env ?? [],
              provideClusterInfo: exec.provideClusterInfo ?? false,
              ...(exec.installHint ? { installHint: exec.installHint } : {}),
            },
          }
        : {}),
    };
  });
  const contexts = (file.contexts ?? []).flatMap(({ name, context }): KubeContext[] =>
    context
      ? [
          {
            name,
            cluster: context.cluster,
            user: context.user ?? '',
            ...(context.namespace ? { namespace: context.namespace } : {}),
          },
        ]
      : [],
  );
  return new KubeConfig({ clusters, users, contexts, currentContext: file['current-context'] ?? '', ignored });
}

/** Reads one kubeconfig file. */
export function readKubeconfigFile(file: string): KubeConfig {
  return parseKubeconfig(readFileSync(file, 'utf8'), dirname(resolve(file)));
}

/** Merges configs like kubectl merges KUBECONFIG: the first to name a cluster, user or context wins, and the first
 * current-context that is set. */
export function mergeKubeconfigs(configs: readonly KubeConfig[]): KubeConfig {
  const firstWins = <T extends { name: string }>(lists: ReadonlyArray<readonly T[]>): T[] => {
    const byName = new Map<string, T>();
    for (const item of lists.flat()) if (!byName.has(item.name)) byName.set(item.name, item);
    return [...byName.values()];
  };
  return new KubeConfig({
    clusters: firstWins(configs.map((c) => c.clusters)),
    users: firstWins(configs.map((c) => c.users)),
    contexts: firstWins(configs.map((c) => c.contexts)),
    currentContext: configs.find((c) => c.currentContext)?.currentContext ?? '',
    ignored: configs.flatMap((c) => c.ignored),
  });
}
