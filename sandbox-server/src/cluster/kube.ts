// The server's handle on one cluster: typed API clients built from a KubeConfig, and error classification.
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  DiscoveryV1Api,
  Exec,
  type KubeConfig,
  NetworkingV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  rbac: RbacAuthorizationV1Api;
  net: NetworkingV1Api;
  admission: AdmissionregistrationV1Api;
  discovery: DiscoveryV1Api;
  exec: Exec;
}

export function createKube(kc: KubeConfig): Kube {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    net: kc.makeApiClient(NetworkingV1Api),
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    exec: new Exec(kc),
  };
}

export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}
export const isNotFound = (error: unknown) => statusCode(error) === 404;
export const isConflict = (error: unknown) => statusCode(error) === 409;

/** True when the cluster did not answer at all (as opposed to answering "no"). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof ApiException) return error.code >= 500 || error.code === 429;
  const text = String((error as { code?: string })?.code ?? error);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|fetch failed|timed? ?out/i.test(text);
}

/** The API server's own words for a refused request, for showing to a learner or an operator. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
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
