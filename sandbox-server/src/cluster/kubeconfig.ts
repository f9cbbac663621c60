// Finds the kubeconfig to use: an explicit file, then KUBECONFIG, then the embedded local cluster's admin kubeconfig.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type KubeConfig, mergeKubeconfigs, readKubeconfigFile } from './kubeconfig-file.ts';

export type { KubeConfig } from './kubeconfig-file.ts';

/** Where `cluster.sh` writes the local cluster's admin kubeconfig (SIDECAR_LAB_STATE moves it, as in lib.sh). */
export function localAdminKubeconfigPath(): string {
  return join(process.env.SIDECAR_LAB_STATE ?? '/var/lib/sidecar-lab', 'kubeconfig', 'admin.kubeconfig');
}

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
 * Loads a KubeConfig, resolving in order: `opts.kubeconfig` → the `KUBECONFIG` environment variable (a list of files
 * is merged, as kubectl does) → the local cluster's admin kubeconfig. `opts.context` selects a context by name.
 * Throws a KubeconfigError naming what was tried when nothing is found.
 */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string } = {}): KubeConfig {
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
  if (!kc.getCurrentCluster()) throw new KubeconfigError('the kubeconfig has no current context with a cluster');
  return kc;
}
