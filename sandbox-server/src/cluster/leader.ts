// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: several server replicas
// share a cluster, and exactly one of them runs the warm pool and the reaper; when it dies, another takes over once
// its lease has run out.
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isConflict, isNotFound, type Kube } from './kube.ts';

export interface LeaderOptions {
  namespace: string;
  name: string;
  /** Unique per process: the Pod's name and the process id, so a restarted Pod is a new candidate. */
  identity: string;
  /** A holder that has not renewed for this long has lost the lease. */
  leaseSeconds: number;
  /** How often the holder renews, and candidates try; a third of the lease, as client-go's defaults. */
  retryMs?: number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/** A MicroTime as the API server parses it: six fractional digits (JavaScript's ISO strings have three). */
export const microTime = (date = new Date()) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The lease's holder and renew time, compared to see whether the record moved since we last looked. */
const recordKey = (lease: V1Lease | undefined) =>
  `${lease?.spec?.holderIdentity ?? ''}|${String(lease?.spec?.renewTime ?? '')}`;

/**
 * Expiry is judged by this process's own clock — when it last saw the record change — never by comparing the
 * renew time written by another machine with ours, so clock skew between nodes cannot elect two leaders.
 */
export class LeaderElector {
  readonly options: LeaderOptions;
  readonly kube: Kube;
  #leading = false;
  #stopped = false;
  #timer?: NodeJS.Timeout;
  #observed = '';
  #observedAt = 0;
  #lastRenewed = 0;

  constructor(kube: Kube, options: LeaderOptions) {
    this.kube = kube;
    this.options = options;
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    const tick = async () => {
      if (this.#stopped) return;
      await this.#round();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#retryMs());
    };
    void tick();
  }

  /** Stops campaigning; a leader hands the lease back at once, so another replica need not wait for it to expire. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#setLeading(false);
    const { namespace, name } = this.options;
    try {
      const lease = await this.kube.coordination.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      const released = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } };
      await this.kube.coordination.replaceNamespacedLease({ namespace, name, body: released }, { timeoutMs: 5_000 });
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not release the lease; another replica takes over when it expires');
    }
  }

  #retryMs(): number {
    return this.options.retryMs ?? Math.max(1_000, (this.options.leaseSeconds * 1_000) / 3);
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.options.log.info(
      { identity: this.options.identity, lease: this.options.name },
      leading ? 'now leading' : 'stopped leading',
    );
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  async #round(): Promise<void> {
    let acquired = false;
    try {
      acquired = await this.#tryAcquireOrRenew();
    } catch (error) {
      this.options.log.warn({ err: error }, 'leader election round failed');
    }
    const now = Date.now();
    if (acquired) {
      this.#lastRenewed = now;
      this.#setLeading(true);
    } else if (this.#leading && now - this.#lastRenewed > this.options.leaseSeconds * 1_000 * 0.8) {
      // A leader that cannot renew steps down before its lease runs out, so two never act at once.
      this.#setLeading(false);
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseSeconds } = this.options;
    const nowIso = microTime();
    let current: V1Lease | undefined;
    try {
      current = await this.kube.coordination.readNamespacedLease({ namespace, name }, { timeoutMs: 5_000 });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!current) {
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: nowIso as never,
          renewTime: nowIso as never,
          leaseTransitions: 0,
        },
      };
      try {
        await this.kube.coordination.createNamespacedLease({ namespace, body }, { timeoutMs: 5_000 });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    }
    const key = recordKey(current);
    if (key !== this.#observed) {
      this.#observed = key;
      this.#observedAt = Date.now();
    }
    const holder = current.spec?.holderIdentity ?? '';
    const duration = (current.spec?.leaseDurationSeconds ?? leaseSeconds) * 1_000;
    const heldByOther = holder !== '' && holder !== identity;
    if (heldByOther && Date.now() - this.#observedAt < duration) return false;
    const spec = current.spec ?? {};
    const body: V1Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        renewTime: nowIso as never,
        ...(holder === identity
          ? {}
          : { acquireTime: nowIso as never, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      const written = await this.kube.coordination.replaceNamespacedLease(
        { namespace, name, body },
        { timeoutMs: 5_000 },
      );
      this.#observed = recordKey(written);
      this.#observedAt = Date.now();
      return true;
    } catch (error) {
      // Another replica wrote first: it leads this round.
      if (isConflict(error)) return false;
      throw error;
    }
  }
}
