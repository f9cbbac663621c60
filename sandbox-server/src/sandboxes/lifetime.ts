// How long a sandbox lives: until its learner has been idle for the idle period, never past its maximum lifetime;
// a workshop's sandbox lives until the workshop's end instead. Pure rules, shared by the API, the activity recorder
// and the reaper.
import { NAMESPACE_PREFIX } from '../cluster/labels.ts';
import type { Sandbox } from './sandboxes.ts';

/** The lifetime settings (from SIDECAR_LAB_SANDBOX_TTL_MINUTES, SIDECAR_LAB_MAX_TTL_MINUTES, …). */
export interface LifetimeSettings {
  /** A sandbox ends this long after its learner's last activity. */
  idleMs: number;
  /** …and never later than this long after it was claimed, extensions and activity included. */
  maxMs: number;
}

/** A pool sandbox still "provisioning" after this long was abandoned (its server died while building it). */
export const ABANDONED_PROVISIONING_MS = 10 * 60_000;

/** Why the reaper deletes a sandbox; the label of `sidecar_lab_reaper_decisions_total`. */
export type ReapReason = 'idle' | 'max_lifetime' | 'workshop_ended' | 'pool_expired' | 'abandoned_build';
export const REAP_REASONS: readonly ReapReason[] = [
  'idle',
  'max_lifetime',
  'workshop_ended',
  'pool_expired',
  'abandoned_build',
];

/**
 * The latest a learner's own sandbox may live: its `endsBy` annotation, else (sandboxes claimed before it existed)
 * claim time plus the maximum. Workshop and pool sandboxes have none: the workshop's end, or the pool's, bounds them.
 */
export function limitOf(s: Sandbox, settings: LifetimeSettings): Date | undefined {
  if (s.workshop || !s.owner) return undefined;
  if (s.endsBy) return s.endsBy;
  return s.claimedAt ? new Date(s.claimedAt.getTime() + settings.maxMs) : undefined;
}

/** The expiry that activity at `now` earns: the idle period from now, within the limit. Undefined: activity moves nothing. */
export function expiryAfterActivity(s: Sandbox, now: Date, settings: LifetimeSettings): Date | undefined {
  if (s.workshop || !s.owner) return undefined;
  const wanted = now.getTime() + settings.idleMs;
  const limit = limitOf(s, settings);
  return new Date(limit ? Math.min(wanted, limit.getTime()) : wanted);
}

/** Why a learner may not extend, in their words; undefined when they may. */
export function extensionRefusal(s: Sandbox, settings: LifetimeSettings, now: Date): string | undefined {
  if (s.workshop) {
    return `this sandbox belongs to a workshop and ends with it (${s.expiresAt.toISOString()}); your instructor can extend it`;
  }
  const limit = limitOf(s, settings);
  if (limit && s.expiresAt.getTime() >= limit.getTime()) {
    return (
      `this sandbox already runs for the longest allowed (${formatMinutes(settings.maxMs)} from its start, until ` +
      `${limit.toISOString()}); it cannot be extended further`
    );
  }
  if (limit && now.getTime() >= limit.getTime()) return 'this sandbox has reached its maximum lifetime';
  return undefined;
}

/** The new expiry of an extension by `minutes`: from the later of now and the current expiry, within the limit. */
export function extendedExpiry(s: Sandbox, minutes: number, settings: LifetimeSettings, now: Date): Date {
  const wanted = Math.max(s.expiresAt.getTime(), now.getTime()) + minutes * 60_000;
  const limit = limitOf(s, settings);
  return new Date(limit ? Math.min(wanted, limit.getTime()) : wanted);
}

/** "240 minutes", "1.5 minutes", "30 seconds": a period as the learner reads it in a message. */
export function formatMinutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} seconds`;
  const minutes = Math.round((ms / 60_000) * 10) / 10;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * Whether the reaper deletes this sandbox now, and why: undefined to keep it. Only namespaces with our name prefix
 * that are not already being deleted are considered.
 */
export function reapReason(s: Sandbox, now: Date): ReapReason | undefined {
  if (!s.namespace.startsWith(NAMESPACE_PREFIX) || s.status === 'deleting') return undefined;
  const t = now.getTime();
  if (!s.owner) {
    if (s.pool === 'provisioning' && s.createdAt && t - s.createdAt.getTime() > ABANDONED_PROVISIONING_MS) {
      return 'abandoned_build';
    }
    return s.expiresAt.getTime() <= t ? 'pool_expired' : undefined;
  }
  if (s.workshop) return s.expiresAt.getTime() <= t ? 'workshop_ended' : undefined;
  // Only the annotation counts here, never claim time plus this server's maximum: servers with other settings (and
  // older versions) share the cluster, and their sandboxes are bound by what their own server wrote.
  const limit = s.endsBy;
  // The limit holds even when an expiry written by hand (or by an older server) lies beyond it.
  if (limit && limit.getTime() <= t) return 'max_lifetime';
  if (s.expiresAt.getTime() > t) return undefined;
  return limit && s.expiresAt.getTime() >= limit.getTime() ? 'max_lifetime' : 'idle';
}
