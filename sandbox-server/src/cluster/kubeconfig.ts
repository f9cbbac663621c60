// Finds the kubeconfig to use: an explicit file, then KUBECONFIG, then — for the local cluster — its admin kubeconfig,
// or — for any other cluster — ~/.kube/config as kubectl reads it, then the Pod's own ServiceAccount when in a Pod.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { proxyRefusal } from './credentials.ts';
import { KubeConfig, mergeKubeconfigs, readKubeconfigFile } from './kubeconfig-file.ts';

export type { KubeConfig } from './kubeconfig-file.ts';

/** Where `cluster.sh` writes the local cluster's admin kubeconfig (SIDECAR_LAB_STATE moves it, as in lib.sh). */
export function localAdminKubeconfigPath(): string {
  return join(process.env.SIDECAR_LAB_STATE ?? '/var/lib/sidecar-lab', 'kubeconfig', 'admin.kubeconfig');
}

/** Where a Pod finds its ServiceAccount's token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The configuration of a program running in a Pod (client-go's in-cluster config): the API server from
 * KUBERNETES_SERVICE_HOST/PORT, the cluster CA, and the projected ServiceAccount token as a token file, which the
 * client re-reads as the kubelet rotates it. Undefined when not in a Pod. `dir` and `env` are for tests.
 */
export function inClusterConfig(dir = SERVICE_ACCOUNT_DIR, env = process.env): KubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const caFile = join(dir, 'ca.crt');
  const namespaceFile = join(dir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return new KubeConfig({
    clusters: [
      {
        name: 'in-cluster',
        server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
        ...(existsSync(caFile) ? { caData: readFileSync(caFile, 'utf8') } : {}),
      },
    ],
    users: [{ name: 'in-cluster', tokenFile }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', ...(namespace ? { namespace } : {}) }],
    currentContext: 'in-cluster',
  });
}

/** kubectl's default kubeconfig file. */
export const homeKubeconfigPath = () => join(homedir(), '.kube', 'config');

/** Thrown when no kubeconfig can be found or loaded; the message says what was tried and what to do. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

function load(file: string, source: string): KubeConfig {
  if (!existsSync(file)) throw new KubeconfigError(`${source}: kubeconfig file ${file} does not exist`);
  try {
    return readKubeconfigFile(file);
  } catch (error) {
    throw new KubeconfigError(`${source}: cannot load ${file}: ${error instanceof Error ? error.message : error}`);
  }
}

/**
 * What to use when neither `--kubeconfig` nor KUBECONFIG names a file: the embedded local cluster's admin kubeconfig
 * (`local`, the default), or what kubectl would use for a cluster the user chose (`user`): ~/.kube/config, then the
 * Pod's own ServiceAccount. A server set to talk to the user's cluster must never reach the local one by accident.
 */
export type KubeconfigFallback = 'local' | 'user';

/**
 * Loads a KubeConfig, resolving in order: `opts.kubeconfig` → the `KUBECONFIG` environment variable (a list of files
 * is merged, as kubectl does) → the fallback (see KubeconfigFallback). `opts.context` selects a context by name.
 * Throws a KubeconfigError naming what was tried when nothing is found, or when the chosen cluster needs a proxy.
 */
export function loadKubeConfig(
  opts: { kubeconfig?: string; context?: string; fallback?: KubeconfigFallback } = {},
): KubeConfig {
  let kc: KubeConfig;
  const fromEnv = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (opts.kubeconfig) {
    kc = load(opts.kubeconfig, '--kubeconfig');
  } else if (fromEnv.length) {
    const missing = fromEnv.filter((f) => !existsSync(f));
    if (missing.length === fromEnv.length) {
      throw new KubeconfigError(`KUBECONFIG: none of its files exist (${fromEnv.join(', ')})`);
    }
    try {
      // Merges every file in KUBECONFIG, first one wins, like kubectl; a missing file is skipped, as kubectl does.
      kc = mergeKubeconfigs(fromEnv.filter((f) => existsSync(f)).map(readKubeconfigFile));
    } catch (error) {
      throw new KubeconfigError(
        `KUBECONFIG: cannot load ${fromEnv.join(delimiter)}: ${error instanceof Error ? error.message : error}`,
      );
    }
  } else if (opts.fallback === 'user') {
    const home = homeKubeconfigPath();
    const inCluster = existsSync(home) ? undefined : inClusterConfig();
    if (existsSync(home)) kc = load(home, '~/.kube/config');
    else if (inCluster) kc = inCluster;
    else {
      throw new KubeconfigError(
        `no kubeconfig: set KUBECONFIG or pass --kubeconfig FILE (${home} does not exist, and this is not a Pod with a ServiceAccount)`,
      );
    }
  } else {
    const local = localAdminKubeconfigPath();
    if (!existsSync(local)) {
      throw new KubeconfigError(
        `no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or start the local cluster with \`npm run cluster:up\` (which writes ${local})`,
      );
    }
    kc = load(local, 'local cluster');
  }
  if (opts.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(opts.context)) {
      throw new KubeconfigError(
        `context "${opts.context}" is not in the kubeconfig (it has: ${names.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError('the kubeconfig has no current context with a cluster');
  if (cluster.proxyUrl) throw new KubeconfigError(proxyRefusal(cluster));
  return kc;
}
