// Which cluster `./lab start` uses when the user did not say: the choice a user would expect, made from what the
// machine has, so a normal user never runs the local cluster's root-only scripts.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** What the choice depends on; `detectMachine()` reads it from this machine, tests pass their own. */
export interface Machine {
  platform: NodeJS.Platform;
  isRoot: boolean;
  /** Commands found on PATH. */
  has: (command: string) => boolean;
  /** Docker answers `docker info`. */
  dockerRunning: () => boolean;
  /** A kubeconfig kubectl would read exists (KUBECONFIG's files, or ~/.kube/config). */
  kubeconfigExists: boolean;
}

export type ProviderChoice =
  | { provider: 'local' | 'kind' | 'kubeconfig'; why: string }
  | { provider: 'none'; message: string };

/**
 * SIDECAR_LAB_CLUSTER when set; otherwise local on Linux as root, else kind where Docker and kind are present, else an
 * existing kubeconfig, else one message saying what to install or set. An explicit `local` without root is refused
 * before any script runs.
 */
export function chooseProvider(requested: string | undefined, machine: Machine): ProviderChoice {
  const localOk = machine.platform === 'linux' && machine.isRoot;
  if (requested === 'local' && !localOk) {
    return {
      provider: 'none',
      message:
        machine.platform === 'linux'
          ? 'the local cluster runs Kubernetes components as root processes: run `sudo ./lab start`, or set SIDECAR_LAB_CLUSTER=kind (Docker and kind) or SIDECAR_LAB_CLUSTER=kubeconfig (a cluster of yours)'
          : `the local cluster needs Linux (this is ${machine.platform}): set SIDECAR_LAB_CLUSTER=kind (Docker and kind) or SIDECAR_LAB_CLUSTER=kubeconfig (a cluster of yours)`,
    };
  }
  if (requested === 'local' || requested === 'kind' || requested === 'kubeconfig') {
    return { provider: requested, why: 'SIDECAR_LAB_CLUSTER says so' };
  }
  if (localOk) return { provider: 'local', why: 'Linux as root: the embedded local cluster' };
  if (machine.has('docker') && machine.has('kind') && machine.dockerRunning()) {
    return { provider: 'kind', why: 'Docker and kind are installed' };
  }
  if (machine.kubeconfigExists)
    return { provider: 'kubeconfig', why: 'a kubeconfig exists (KUBECONFIG or ~/.kube/config)' };
  return {
    provider: 'none',
    message:
      'no cluster to use: run as root on Linux for the embedded local cluster, install Docker and kind (https://kind.sigs.k8s.io), or point KUBECONFIG at a cluster you can use',
  };
}

const onPath = (command: string) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));

/** This machine, as `chooseProvider` needs it. */
export function detectMachine(): Machine {
  const kubeconfigs = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  return {
    platform: process.platform,
    isRoot: process.getuid?.() === 0,
    has: onPath,
    dockerRunning: () => {
      try {
        execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
        return true;
      } catch {
        return false;
      }
    },
    kubeconfigExists: (kubeconfigs.length ? kubeconfigs : [join(homedir(), '.kube', 'config')]).some((f) =>
      existsSync(f),
    ),
  };
}
