// The warm pool: keeps a few sandboxes provisioned and unowned, so a learner's first terminal opens at once.
import type { Logger } from 'pino';
import { poolSelector, type Sandboxes } from './sandboxes.ts';

export class WarmPool {
  #inFlight = 0;
  #timer?: NodeJS.Timeout;
  #stopped = false;

  readonly sandboxes: Sandboxes;
  readonly size: number;
  readonly log: Logger;
  readonly onLevel: (ready: number) => void;

  constructor(sandboxes: Sandboxes, size: number, log: Logger, onLevel: (ready: number) => void = () => undefined) {
    this.sandboxes = sandboxes;
    this.size = size;
    this.log = log;
    this.onLevel = onLevel;
  }

  start(intervalMs = 10_000): void {
    this.#stopped = false;
    clearInterval(this.#timer);
    void this.refill();
    this.#timer = setInterval(() => void this.refill(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /** This instance's pool sandboxes of the current blueprint in `states`, leaving out those deleted or expired. */
  async #count(states: string[]): Promise<number> {
    const { settings, blueprint } = this.sandboxes;
    const pool = await this.sandboxes.list(poolSelector(settings.instance, states, blueprint));
    return pool.filter((s) => s.status !== 'deleting' && s.status !== 'expired').length;
  }

  /** Pool sandboxes that are warm or on their way (being built counts, so two refills never overshoot). */
  ready(): Promise<number> {
    return this.#count(['warm', 'provisioning']);
  }

  /** Warm sandboxes that a claim would get right now. */
  claimable(): Promise<number> {
    return this.#count(['warm']);
  }

  /**
   * Refills a little later: a claim is the moment a learner waits for their terminal, and provisioning right then
   * competes with it for the node's two cores.
   */
  refillSoon(delayMs = 3_000): void {
    if (this.#stopped || this.size === 0) return;
    setTimeout(() => void this.refill(), delayMs).unref();
  }

  /** Deletes this instance's warm sandboxes built from another blueprint (left by an older version of the server). */
  async retireStale(): Promise<string[]> {
    const warm = await this.sandboxes.list(poolSelector(this.sandboxes.settings.instance, ['warm']));
    const stale = warm.filter((s) => s.blueprint !== this.sandboxes.blueprint && s.status !== 'deleting');
    await Promise.all(stale.map((s) => this.sandboxes.delete(s.id)));
    if (stale.length)
      this.log.info({ sandboxes: stale.map((s) => s.id) }, 'retired warm sandboxes of an older blueprint');
    return stale.map((s) => s.id);
  }

  /** Provisions one sandbox at a time until the pool is full: one at a time keeps a 2-core node responsive. */
  async refill(): Promise<void> {
    if (this.#stopped || this.#inFlight > 0 || this.size === 0) return;
    this.#inFlight++;
    try {
      await this.retireStale();
      for (;;) {
        const ready = await this.ready();
        this.onLevel(ready);
        if (this.#stopped || ready >= this.size) return;
        const started = Date.now();
        const sandbox = await this.sandboxes.provision();
        this.log.info({ sandbox: sandbox.id, ms: Date.now() - started }, 'warm sandbox ready');
      }
    } catch (error) {
      this.log.warn({ err: error }, 'warm pool refill failed; will retry');
    } finally {
      this.#inFlight--;
    }
  }
}
