// Sandboxes: provisioning, claiming, finding and ending learner namespaces. The cluster holds all their state.
import { createHash, randomBytes } from 'node:crypto';
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { mergePatch } from '../cluster/apis.ts';
import {
  type BlueprintInput,
  blueprintDigest,
  namespaceObject,
  type SandboxBudget,
  sandboxObjects,
  toolboxPod,
} from '../cluster/blueprint.ts';
import { discoverEgress } from '../cluster/cluster-setup.ts';
import { execCollect } from '../cluster/exec.ts';
import { apiMessage, createIdempotent, isConflict, isNotFound, isQuotaExceeded, type Kube } from '../cluster/kube.ts';
import {
  ANNOTATIONS,
  LABELS,
  managedSelector,
  NAMESPACE_PREFIX,
  TOOLBOX_CONTAINER,
  TOOLBOX_POD,
} from '../cluster/labels.ts';
import type { SandboxStatus, SandboxView } from '../protocol/schemas.ts';
import { expiryAfterActivity, extendedExpiry, extensionRefusal, type LifetimeSettings, limitOf } from './lifetime.ts';

export interface SandboxSettings {
  toolboxImage: string;
  budget: SandboxBudget;
  /** The idle period: a learner's sandbox ends this many minutes after their last activity (decimals allowed). */
  ttlMinutes: number;
  /** The longest a learner's sandbox lives from its claim, activity and extensions included. */
  maxTtlMinutes: number;
  /** How long before the expiry the page warns; 5 minutes when not given. */
  warningMinutes?: number;
  /** How long a cold sandbox may take to become ready before provisioning fails. */
  readyTimeoutMs?: number;
  /** This server's instance name: its warm pool is the warm sandboxes carrying it. */
  instance?: string;
}

export interface Sandbox {
  id: string;
  namespace: string;
  owner: string;
  status: SandboxStatus;
  expiresAt: Date;
  claimedAt?: Date;
  createdAt?: Date;
  workshop?: string;
  /** The pool label: "provisioning" and "warm" sandboxes have no owner yet. */
  pool?: string;
  /** The blueprint digest it was built from (see blueprintDigest). */
  blueprint?: string;
  /** The latest a learner's own sandbox may live (ANNOTATIONS.endsBy). */
  endsBy?: Date;
  /** The server instance that made it (LABELS.instance). */
  instance?: string;
}

/** What a claim or provisioning may set besides the owner: the workshop label, and an expiry other than the TTL. */
export interface SandboxClaimOptions {
  workshop?: string;
  expiresAt?: Date;
}

export class SandboxError extends Error {
  override name = 'SandboxError';
  readonly code: 'not_found' | 'capacity' | 'conflict' | 'bad_request' | 'cluster_unavailable';
  constructor(code: SandboxError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** Label-safe, non-reversible form of a session id: the cluster never sees the cookie value itself. */
export function ownerHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex').slice(0, 40);
}

/** 64 random bits, so sandbox ids cannot be guessed. */
export function newSandboxId(): string {
  return randomBytes(8).toString('hex');
}

export const namespaceFor = (id: string) => `${NAMESPACE_PREFIX}${id}`;

/** A tmux session named "main" is the learner's terminal; creating it proves the shell answers. */
export const TMUX_SESSION = 'main';

const WARM_POOL_EXPIRY_MS = 24 * 60 * 60 * 1000;

/** Label selector for this instance's pool sandboxes in the given pool states, of one blueprint when given. */
export function poolSelector(instance: string | undefined, states: string[], blueprint?: string): string {
  const pool = states.length === 1 ? `${LABELS.pool}=${states[0]}` : `${LABELS.pool} in (${states.join(',')})`;
  const scope = `${instance ? `,${LABELS.instance}=${instance}` : ''}${blueprint ? `,${LABELS.blueprint}=${blueprint}` : ''}`;
  return `${managedSelector},${pool}${scope}`;
}

export class Sandboxes {
  #egress?: Awaited<ReturnType<typeof discoverEgress>>;

  readonly kube: Kube;
  readonly settings: SandboxSettings;
  /** Digest of the blueprint this server builds; its warm pool only holds sandboxes of it. */
  readonly blueprint: string;

  constructor(kube: Kube, settings: SandboxSettings) {
    this.kube = kube;
    this.settings = settings;
    this.blueprint = blueprintDigest(settings);
  }

  /** The lifetime rules in milliseconds. */
  get lifetime(): LifetimeSettings {
    return { idleMs: this.settings.ttlMinutes * 60_000, maxMs: this.settings.maxTtlMinutes * 60_000 };
  }

  toView(sandbox: Sandbox): SandboxView {
    const endsBy = limitOf(sandbox, this.lifetime);
    const follows = !sandbox.workshop && !!sandbox.owner;
    return {
      id: sandbox.id,
      namespace: sandbox.namespace,
      status: sandbox.status,
      expiresAt: sandbox.expiresAt.toISOString(),
      ...(sandbox.workshop ? { workshop: sandbox.workshop } : {}),
      ...(endsBy ? { endsBy: endsBy.toISOString() } : {}),
      ...(follows ? { idleSeconds: Math.round(this.lifetime.idleMs / 1000) } : {}),
      warnSeconds: Math.round((this.settings.warningMinutes ?? 5) * 60),
    };
  }

  /** Annotations a claim by a learner sets: claim time, expiry, and (outside workshops) the end of the maximum. */
  private claimAnnotations(now: Date, options: SandboxClaimOptions): Record<string, string | null> {
    const endsBy = new Date(now.getTime() + this.lifetime.maxMs);
    const idle = new Date(Math.min(now.getTime() + this.lifetime.idleMs, endsBy.getTime()));
    return {
      [ANNOTATIONS.claimedAt]: now.toISOString(),
      [ANNOTATIONS.expiresAt]: (options.expiresAt ?? idle).toISOString(),
      // A merge patch removes it with null: a warm sandbox never has one, but a re-claimed one might.
      [ANNOTATIONS.endsBy]: options.workshop ? null : endsBy.toISOString(),
    };
  }

  /** Creates a sandbox and waits until its terminal answers. With no owner it joins the warm pool. */
  async provision(owner = '', options: SandboxClaimOptions = {}): Promise<Sandbox> {
    const id = newSandboxId();
    this.#egress ??= await discoverEgress(this.kube);
    const now = new Date();
    const claim = owner ? this.claimAnnotations(now, options) : {};
    const expiresAt = owner
      ? new Date(claim[ANNOTATIONS.expiresAt]!)
      : (options.expiresAt ?? new Date(now.getTime() + WARM_POOL_EXPIRY_MS));
    const input: BlueprintInput = {
      id,
      namespace: namespaceFor(id),
      owner,
      expiresAt,
      toolboxImage: this.settings.toolboxImage,
      budget: this.settings.budget,
      egress: this.#egress,
      ...(options.workshop ? { workshop: options.workshop } : {}),
      ...(this.settings.instance ? { instance: this.settings.instance } : {}),
      blueprint: this.blueprint,
    };
    const ns = namespaceObject(input);
    for (const [key, value] of Object.entries(claim)) if (value) ns.metadata!.annotations![key] = value;
    await this.kube.core.createNamespace({ body: ns });
    try {
      await this.createObjects(input);
      await this.waitForTerminal(input.namespace);
    } catch (error) {
      await this.kube.core.deleteNamespace({ name: input.namespace }).catch(() => undefined);
      throw error;
    }
    if (!owner) {
      // Only now may a learner claim it: its shell has answered.
      const warm = await this.kube.core.patchNamespace(
        { name: input.namespace, body: { metadata: { labels: { [LABELS.pool]: 'warm' } } } },
        mergePatch,
      );
      return this.fromNamespace(warm, 'ready');
    }
    return this.fromNamespace(await this.kube.core.readNamespace({ name: input.namespace }), 'ready');
  }

  private async createObjects(input: BlueprintInput): Promise<void> {
    const { core, rbac, net } = this.kube;
    const namespace = input.namespace;
    const [quota, limits, policy, defaultSa, learnerSa, binding, checkerBinding, toolbox] = sandboxObjects(input);
    // The default ServiceAccount is created by the controller-manager too; ours only turns its token off.
    await Promise.all([
      createIdempotent(() => core.createNamespacedResourceQuota({ namespace, body: quota as never })),
      createIdempotent(() => core.createNamespacedLimitRange({ namespace, body: limits as never })),
      createIdempotent(() => net.createNamespacedNetworkPolicy({ namespace, body: policy as never })),
      createIdempotent(() => core.createNamespacedServiceAccount({ namespace, body: learnerSa as never })),
      createIdempotent(() => rbac.createNamespacedRoleBinding({ namespace, body: binding as never })),
      createIdempotent(() => rbac.createNamespacedRoleBinding({ namespace, body: checkerBinding as never })),
      this.disableDefaultToken(namespace, defaultSa as never),
    ]);
    await core.createNamespacedPod({ namespace, body: toolbox as V1Pod });
  }

  private async disableDefaultToken(namespace: string, body: never): Promise<void> {
    try {
      await this.kube.core.createNamespacedServiceAccount({ namespace, body });
    } catch (error) {
      if (!isConflict(error)) throw error;
      await this.kube.core.patchNamespacedServiceAccount(
        {
          namespace,
          name: 'default',
          body: { automountServiceAccountToken: false },
        },
        mergePatch,
      );
    }
  }

  /** Waits for the toolbox to run, then starts the tmux session the terminal attaches to and waits for its prompt. */
  private async waitForTerminal(namespace: string): Promise<void> {
    const deadline = Date.now() + (this.settings.readyTimeoutMs ?? 60_000);
    let lastReason = 'the toolbox Pod is not ready yet';
    while (Date.now() < deadline) {
      const pod = await this.kube.core.readNamespacedPod({ namespace, name: TOOLBOX_POD });
      const status = pod.status?.containerStatuses?.[0];
      const waiting = status?.state?.waiting;
      if (waiting?.reason && /ErrImage|ImagePull|CrashLoop|CreateContainerError/.test(waiting.reason)) {
        throw new SandboxError(
          'cluster_unavailable',
          `the toolbox cannot start: ${waiting.reason} ${waiting.message ?? ''}`,
        );
      }
      if (status?.ready || status?.state?.running) {
        const result = await execCollect(this.kube, namespace, TOOLBOX_POD, TOOLBOX_CONTAINER, [
          'sh',
          '-c',
          // Ready means the prompt is on the screen (bash has read its rc files), not merely that tmux started.
          `tmux has-session -t ${TMUX_SESSION} 2>/dev/null || tmux new-session -d -s ${TMUX_SESSION} -x 120 -y 32; ` +
            `i=0; until tmux capture-pane -p -t ${TMUX_SESSION} | grep -q '[^[:space:]]' || [ $i -ge 150 ]; ` +
            `do i=$((i+1)); sleep 0.02; done; echo ok`,
        ]).catch((error: unknown) => ({ stdout: '', stderr: error instanceof Error ? error.message : String(error) }));
        if (result.stdout.includes('ok')) return;
        lastReason = `the shell did not answer: ${result.stderr.trim()}`;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new SandboxError('cluster_unavailable', `sandbox ${namespace} was not ready in time: ${lastReason}`);
  }

  /**
   * Brings the toolbox back when it was deleted out of band (or evicted): the terminal then reattaches to a fresh
   * shell instead of failing. Returns true when it had to be recreated.
   */
  async ensureToolbox(sandbox: Sandbox): Promise<boolean> {
    const { namespace } = sandbox;
    let pod: V1Pod | undefined;
    try {
      pod = await this.kube.core.readNamespacedPod({ namespace, name: TOOLBOX_POD });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const healthy =
      pod && !pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded';
    if (healthy) {
      if (!pod?.status?.containerStatuses?.[0]?.ready) await this.waitForTerminal(namespace);
      return false;
    }
    if (pod) {
      await this.kube.core
        .deleteNamespacedPod({ namespace, name: TOOLBOX_POD, gracePeriodSeconds: 0 })
        .catch(() => undefined);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        try {
          await this.kube.core.readNamespacedPod({ namespace, name: TOOLBOX_POD });
          await new Promise((r) => setTimeout(r, 200));
        } catch (error) {
          if (isNotFound(error)) break;
          throw error;
        }
      }
    }
    const body = toolboxPod({
      id: sandbox.id,
      namespace,
      owner: sandbox.owner,
      expiresAt: sandbox.expiresAt,
      toolboxImage: this.settings.toolboxImage,
      budget: this.settings.budget,
      egress: { dns: [], apiServer: [] },
    });
    await this.createToolboxWithinQuota(namespace, body);
    await this.waitForTerminal(namespace);
    return true;
  }

  /**
   * The toolbox counts against the learner's own Pod quota. Pods being deleted keep their place until their grace
   * period ends (a `sleep` that ignores SIGTERM: 30 s), so a full quota is waited out for the ready time-out before
   * the learner is told why their terminal cannot start.
   */
  private async createToolboxWithinQuota(namespace: string, body: V1Pod): Promise<void> {
    const deadline = Date.now() + (this.settings.readyTimeoutMs ?? 60_000);
    for (;;) {
      try {
        await createIdempotent(() => this.kube.core.createNamespacedPod({ namespace, body }));
        return;
      } catch (error) {
        if (!isQuotaExceeded(error)) throw error;
        if (Date.now() >= deadline) {
          throw new SandboxError(
            'conflict',
            `your namespace's Pod quota is full, so the terminal cannot start: ${apiMessage(error)}. ` +
              'Pods that are being deleted free their place when they stop; or delete this sandbox and start a new one.',
          );
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  /** Takes a warm sandbox for `owner`, or returns undefined when the pool is empty. */
  async claimWarm(owner: string, options: SandboxClaimOptions = {}): Promise<Sandbox | undefined> {
    const warm = await this.kube.core.listNamespace({
      labelSelector: poolSelector(this.settings.instance, ['warm'], this.blueprint),
    });
    for (const ns of warm.items) {
      if (ns.metadata?.deletionTimestamp) continue;
      const now = new Date();
      try {
        // The resourceVersion makes the claim atomic: two learners racing for one namespace get one each or a 409.
        const claimed = await this.kube.core.patchNamespace(
          {
            name: ns.metadata!.name!,
            body: {
              metadata: {
                resourceVersion: ns.metadata!.resourceVersion,
                labels: {
                  [LABELS.owner]: owner,
                  [LABELS.pool]: 'claimed',
                  ...(options.workshop ? { [LABELS.workshop]: options.workshop } : {}),
                },
                annotations: this.claimAnnotations(now, options),
              },
            },
          },
          mergePatch,
        );
        return this.fromNamespace(claimed, 'ready');
      } catch (error) {
        if (isConflict(error)) continue;
        throw error;
      }
    }
    return undefined;
  }

  /** The live sandbox of an owner, if any. */
  async findByOwner(owner: string): Promise<Sandbox | undefined> {
    const list = await this.kube.core.listNamespace({ labelSelector: `${managedSelector},${LABELS.owner}=${owner}` });
    const live = list.items.filter((ns) => !ns.metadata?.deletionTimestamp);
    const found = live[0];
    return found ? this.withToolboxStatus(found) : undefined;
  }

  /** A sandbox by id, whoever owns it; undefined when it does not exist or is not ours. */
  async get(id: string): Promise<Sandbox | undefined> {
    if (!/^[0-9a-f]{16}$/.test(id)) return undefined;
    try {
      const ns = await this.kube.core.readNamespace({ name: namespaceFor(id) });
      if (ns.metadata?.labels?.[LABELS.managed] !== 'true') return undefined;
      return this.withToolboxStatus(ns);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(selector = managedSelector): Promise<Sandbox[]> {
    const list = await this.kube.core.listNamespace({ labelSelector: selector });
    return list.items
      .filter((ns) => ns.metadata?.name?.startsWith(NAMESPACE_PREFIX))
      .map((ns) => this.fromNamespace(ns));
  }

  async delete(id: string): Promise<void> {
    try {
      await this.kube.core.deleteNamespace({ name: namespaceFor(id), propagationPolicy: 'Background' });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * Pushes the expiry back by `minutes` (the learner's "Extend"), never past the maximum lifetime counted from the
   * claim: an extension that would go beyond it stops at it, and one asked for at it is refused, naming the limit.
   * A workshop's sandbox ends with its workshop; only the instructor extends it.
   */
  async extend(sandbox: Sandbox, minutes: number): Promise<Sandbox> {
    const now = new Date();
    const refusal = extensionRefusal(sandbox, this.lifetime, now);
    if (refusal) throw new SandboxError('conflict', refusal);
    const expiresAt = extendedExpiry(sandbox, minutes, this.lifetime, now);
    const patched = await this.kube.core.patchNamespace(
      {
        name: sandbox.namespace,
        body: { metadata: { annotations: { [ANNOTATIONS.expiresAt]: expiresAt.toISOString() } } },
      },
      mergePatch,
    );
    return { ...this.fromNamespace(patched), status: sandbox.status };
  }

  /**
   * Moves a sandbox into a workshop and/or to a new expiry. Unlike extend() there is no cap here: a workshop sets
   * its sandboxes' expiry to its own end time, which it bounds itself.
   */
  async assign(sandbox: Sandbox, change: SandboxClaimOptions): Promise<Sandbox> {
    const annotations = {
      ...(change.expiresAt ? { [ANNOTATIONS.expiresAt]: change.expiresAt.toISOString() } : {}),
      // In a workshop the workshop's end bounds it, not the learner's own maximum.
      ...(change.workshop ? { [ANNOTATIONS.endsBy]: null } : {}),
    };
    const patched = await this.kube.core.patchNamespace(
      {
        name: sandbox.namespace,
        body: {
          metadata: {
            ...(change.workshop ? { labels: { [LABELS.workshop]: change.workshop } } : {}),
            ...(Object.keys(annotations).length ? { annotations } : {}),
          },
        },
      },
      mergePatch,
    );
    return { ...this.fromNamespace(patched), status: sandbox.status };
  }

  /**
   * Moves the expiry of a learner's own sandbox to what activity at `at` earns (the idle period from then, within the
   * limit), never earlier than it is: an extension the learner asked for stays. Reads the namespace first and writes
   * with its resourceVersion, so two writers cannot move it backwards. Returns the new expiry when it moved.
   */
  async recordActivity(id: string, at: Date): Promise<Date | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let ns: V1Namespace;
      try {
        ns = await this.kube.core.readNamespace({ name: namespaceFor(id) });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      if (ns.metadata?.labels?.[LABELS.managed] !== 'true') return undefined;
      const sandbox = this.fromNamespace(ns);
      if (sandbox.status === 'deleting' || sandbox.status === 'expired') return undefined;
      const next = expiryAfterActivity(sandbox, at, this.lifetime);
      if (!next || next.getTime() <= sandbox.expiresAt.getTime()) return undefined;
      try {
        await this.kube.core.patchNamespace(
          {
            name: sandbox.namespace,
            body: {
              metadata: {
                resourceVersion: ns.metadata!.resourceVersion,
                annotations: { [ANNOTATIONS.expiresAt]: next.toISOString() },
              },
            },
          },
          mergePatch,
        );
        return next;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    return undefined;
  }

  private async withToolboxStatus(ns: V1Namespace): Promise<Sandbox> {
    const sandbox = this.fromNamespace(ns);
    if (sandbox.status !== 'provisioning') return sandbox;
    try {
      const pod = await this.kube.core.readNamespacedPod({ namespace: sandbox.namespace, name: TOOLBOX_POD });
      return { ...sandbox, status: pod.status?.containerStatuses?.[0]?.ready ? 'ready' : 'provisioning' };
    } catch (error) {
      if (isNotFound(error)) return sandbox;
      throw error;
    }
  }

  private fromNamespace(ns: V1Namespace, known?: SandboxStatus): Sandbox {
    const labels = ns.metadata?.labels ?? {};
    const annotations = ns.metadata?.annotations ?? {};
    const expiresAt = new Date(annotations[ANNOTATIONS.expiresAt] ?? 0);
    const claimed = annotations[ANNOTATIONS.claimedAt];
    const endsBy = annotations[ANNOTATIONS.endsBy];
    const created = ns.metadata?.creationTimestamp;
    let status: SandboxStatus = known ?? 'provisioning';
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') status = 'deleting';
    else if (expiresAt.getTime() <= Date.now()) status = 'expired';
    return {
      id: labels[LABELS.sandbox] ?? ns.metadata!.name!.slice(NAMESPACE_PREFIX.length),
      namespace: ns.metadata!.name!,
      owner: labels[LABELS.owner] ?? '',
      status,
      expiresAt,
      ...(claimed ? { claimedAt: new Date(claimed) } : {}),
      ...(created ? { createdAt: new Date(created) } : {}),
      ...(labels[LABELS.workshop] ? { workshop: labels[LABELS.workshop] } : {}),
      ...(labels[LABELS.pool] ? { pool: labels[LABELS.pool] } : {}),
      ...(labels[LABELS.blueprint] ? { blueprint: labels[LABELS.blueprint] } : {}),
      ...(endsBy ? { endsBy: new Date(endsBy) } : {}),
      ...(labels[LABELS.instance] ? { instance: labels[LABELS.instance] } : {}),
    };
  }
}
