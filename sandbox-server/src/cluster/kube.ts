// The server's handle on one cluster: typed API clients built from a KubeConfig, and error classification.
import {
  type AdmissionV1,
  type AppsV1,
  admissionV1,
  appsV1,
  type BatchV1,
  batchV1,
  type CoordinationV1,
  type CoreV1,
  coordinationV1,
  coreV1,
  type DiscoveryV1,
  discoveryV1,
  type NetworkingV1,
  networkingV1,
  type RbacV1,
  rbacV1,
} from './apis.ts';
import { Exec } from './exec-socket.ts';
import type { KubeConfig } from './kubeconfig-file.ts';
import { KubeApiError, RestClient } from './rest.ts';

/** One cluster's API groups, exec, and the REST client beneath them. */
export interface Kube {
  kc: KubeConfig;
  rest: RestClient;
  core: CoreV1;
  rbac: RbacV1;
  net: NetworkingV1;
  admission: AdmissionV1;
  discovery: DiscoveryV1;
  apps: AppsV1;
  batch: BatchV1;
  coordination: CoordinationV1;
  exec: Exec;
}

/** Clients for the cluster `kc`'s current context points at; `requestTimeoutMs` bounds each call by default. */
export function createKube(kc: KubeConfig, requestTimeoutMs?: number): Kube {
  const rest = new RestClient(kc, requestTimeoutMs);
  return {
    kc,
    rest,
    core: coreV1(rest),
    rbac: rbacV1(rest),
    net: networkingV1(rest),
    admission: admissionV1(rest),
    discovery: discoveryV1(rest),
    apps: appsV1(rest),
    batch: batchV1(rest),
    coordination: coordinationV1(rest),
    exec: new Exec(kc),
  };
}

/** The HTTP status of an API server refusal, or undefined when the error is not one. */
export function statusCode(error: unknown): number | undefined {
  return error instanceof KubeApiError ? error.code : undefined;
}
export const isNotFound = (error: unknown) => statusCode(error) === 404;
export const isConflict = (error: unknown) => statusCode(error) === 409;
/** A create refused by a ResourceQuota (a 403 whose message names the quota), not by RBAC. */
export const isQuotaExceeded = (error: unknown) =>
  statusCode(error) === 403 && /exceeded quota/.test(error instanceof Error ? error.message : '');

/** True when the cluster did not answer at all (as opposed to answering "no"). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof KubeApiError) return error.code >= 500 || error.code === 429;
  const text = String((error as { code?: string })?.code ?? error);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|fetch failed|timed? ?out/i.test(text);
}

/** The API server's own words for a refused request, for showing to a learner or an operator. */
export function apiMessage(error: unknown): string {
  if (error instanceof KubeApiError) {
    const body = error.body as { message?: string } | string | undefined;
    if (typeof body === 'string') {
      try {
        return (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        return body;
      }
    }
    return body?.message ?? error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Creates an object, treating "already exists" as done, so provisioning steps can be retried. */
export async function createIdempotent(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

/** Rejects after `ms` so no cluster call can hang a request. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
