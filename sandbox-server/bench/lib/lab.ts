// What every benchmark gets: the cluster, the cluster's kubectl, a record of everything created (so it can all be
// deleted, even after a failure), and a shared server + sandbox for the terminal benchmarks.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createKube, isNotFound, type Kube } from '../../src/cluster/kube.ts';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import type { KubeConfig } from '../../src/cluster/kubeconfig-file.ts';
import { LABELS } from '../../src/cluster/labels.ts';
import { BenchLearner, type SandboxView } from './learner.ts';
import type { Options } from './options.ts';
import { type ServerOptions, ServerProcess } from './server.ts';

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The kubectl of the cluster's own version, as the cluster script installs it (SIDECAR_LAB_KUBECTL overrides). */
export function kubectlPath(): string {
  if (process.env.SIDECAR_LAB_KUBECTL) return process.env.SIDECAR_LAB_KUBECTL;
  const versions = readFileSync(join(REPO, 'sandbox-server/cluster/local/versions.env'), 'utf8');
  const version = /^K8S_VERSION=(\S+)/m.exec(versions)?.[1];
  if (!version) throw new Error('K8S_VERSION missing from sandbox-server/cluster/local/versions.env');
  const cache = process.env.SIDECAR_LAB_CACHE ?? join(homedir(), '.cache', 'sidecar-lab');
  return join(cache, 'bin', `k8s-${version}`, 'kubectl');
}

/** Runs kubectl against the bench's cluster; throws with its stderr when it fails. */
export async function kubectl(kubeconfig: string, args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run(kubectlPath(), [`--kubeconfig=${kubeconfig}`, ...args], { timeout: timeoutMs });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** Every namespace the bench created, so cleanup deletes exactly those and never anyone else's. */
export class Tracker {
  readonly #live = new Set<string>();
  readonly #deleted = new Set<string>();
  /** Every namespace ever tracked, deleted or not: "ours" when telling our warm sandboxes from other servers'. */
  readonly #all = new Set<string>();
  readonly kube: Kube;
  constructor(kube: Kube) {
    this.kube = kube;
  }

  track(namespace: string): void {
    this.#all.add(namespace);
    if (!this.#deleted.has(namespace)) this.#live.add(namespace);
  }

  owns(namespace: string): boolean {
    return this.#all.has(namespace);
  }

  get live(): string[] {
    return [...this.#live];
  }

  /** Deletes one namespace now, without waiting; a namespace already gone is fine. */
  async delete(namespace: string): Promise<void> {
    this.#live.delete(namespace);
    this.#deleted.add(namespace);
    try {
      await this.kube.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' });
    } catch (error) {
      if (!isNotFound(error)) console.error(`bench: could not delete namespace ${namespace}: ${String(error)}`);
    }
  }

  /** Deletes every live namespace except `keep`, and optionally waits (bounded) until all deleted ones are gone. */
  async deleteAll(options: { wait: boolean; keep?: readonly string[]; timeoutMs?: number }): Promise<void> {
    const doomed = this.live.filter((ns) => !options.keep?.includes(ns));
    await Promise.all(doomed.map((ns) => this.delete(ns)));
    if (options.wait) await this.waitGone([...this.#deleted], options.timeoutMs ?? 180_000);
  }

  /** Waits until none of `namespaces` exists any more (Terminating ones still count), or the deadline passes. */
  async waitGone(namespaces: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let pending = [...namespaces];
    while (pending.length && Date.now() < deadline) {
      const still: string[] = [];
      for (const name of pending) {
        try {
          await this.kube.core.readNamespace({ name });
          still.push(name);
        } catch (error) {
          if (!isNotFound(error)) still.push(name);
        }
      }
      pending = still;
      if (pending.length) await new Promise((r) => setTimeout(r, 1000));
    }
    for (const name of pending) this.#deleted.delete(name); // give up waiting, but never forget a live one
    if (pending.length) console.error(`bench: ${pending.length} namespace(s) still terminating: ${pending.join(', ')}`);
  }
}

/** A server with one learner and a ready sandbox, reused by the echo and bulk benchmarks. */
export interface TerminalFixture {
  server: ServerProcess;
  learner: BenchLearner;
  sandbox: SandboxView;
}

export interface Lab {
  quick: boolean;
  /** The command line's sizes (samples, levels, ramp), for benchmarks that take them. */
  options: Options;
  /** Samples per side of a ratio: --samples when given, else `full`, or `quick` in a quick run. */
  samples(full: number, quick?: number): number;
  kc: KubeConfig;
  kube: Kube;
  /** The kubeconfig file, for kubectl. */
  kubeconfig: string;
  tracker: Tracker;
  /** Servers started by benchmarks; run.ts stops any still running when the bench ends or is interrupted. */
  servers: Set<ServerProcess>;
  /** Namespaces kept across benchmarks (the terminal fixture's sandbox); the rest is deleted after each one. */
  keep: string[];
  /** Starts a server child; with `reuse`, on that one's port, data folder and secret (a restart). */
  startServer(
    poolSize: number,
    reuse?: ServerProcess,
    extra?: Pick<ServerOptions, 'siteDir' | 'origin' | 'port'>,
  ): Promise<ServerProcess>;
  /** A learner on `server` with a fresh sandbox (tracked for cleanup). */
  newSandbox(server: ServerProcess): Promise<{ learner: BenchLearner; sandbox: SandboxView }>;
  /**
   * Waits (bounded) until no other server's warm sandbox is in the cluster. A server claims any namespace labelled
   * warm, whoever made it, so on a shared cluster our "cold" request could take a colleague's pool sandbox (and their
   * test would then delete it under us). Returns false when one was still there at the deadline.
   */
  noForeignWarm(timeoutMs?: number): Promise<boolean>;
  terminalFixture(): Promise<TerminalFixture>;
  log(line: string): void;
}

export function createLab(options: Options): Lab {
  const quick = options.quick;
  const kc = loadKubeConfig();
  const kube = createKube(kc);
  const tracker = new Tracker(kube);
  const servers = new Set<ServerProcess>();
  let fixture: Promise<TerminalFixture> | undefined;
  const kubeconfig =
    process.env.KUBECONFIG?.split(':')[0] ??
    join(process.env.SIDECAR_LAB_STATE ?? '/var/lib/sidecar-lab', 'kubeconfig', 'admin.kubeconfig');

  const lab: Lab = {
    quick,
    options,
    samples: (full, quickSize = 1) => options.samples ?? (quick ? quickSize : full),
    kc,
    kube,
    kubeconfig,
    tracker,
    servers,
    keep: [],
    async startServer(poolSize, reuse, extra) {
      const server = await ServerProcess.start({
        poolSize,
        ...extra,
        onSandbox: (ns) => tracker.track(ns),
        ...(reuse ? { dataDir: reuse.dataDir, secret: reuse.secret, port: reuse.port, instance: reuse.instance } : {}),
      });
      servers.add(server);
      server.child.once('exit', () => servers.delete(server));
      return server;
    },
    async noForeignWarm(timeoutMs = quick ? 15_000 : 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const warm = await kube.core.listNamespace({ labelSelector: `${LABELS.managed}=true,${LABELS.pool}=warm` });
        const foreign = warm.items.filter((ns) => !ns.metadata?.deletionTimestamp && !tracker.owns(ns.metadata!.name!));
        if (foreign.length === 0) return true;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    async newSandbox(server) {
      await lab.noForeignWarm();
      const learner = new BenchLearner(server.url);
      const sandbox = await learner.createSandbox();
      tracker.track(sandbox.namespace);
      return { learner, sandbox };
    },
    terminalFixture() {
      fixture ??= (async () => {
        const server = await lab.startServer(0);
        const made = await lab.newSandbox(server);
        lab.keep.push(made.sandbox.namespace);
        return { server, ...made };
      })();
      return fixture;
    },
    log(line) {
      process.stderr.write(`  · ${line}\n`);
    },
  };
  return lab;
}
