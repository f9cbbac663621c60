// A Pod's web page, fetched through the API server's `pods/proxy` as the sandbox's learner: the server's own rights
// never reach a learner's Pod, and a Pod in another namespace is out of the learner's reach by RBAC as well.
import type { Kube } from './kube.ts';
import { LEARNER_SA } from './labels.ts';
import { type BytesResponse, RestClient } from './rest.ts';

/** Largest page a preview passes on; a Pod serving more gets a refusal, not a truncated page. */
export const PREVIEW_MAX_BYTES = 2 * 1024 * 1024;
/** Longest a preview waits for the whole answer. */
export const PREVIEW_TIMEOUT_MS = 10_000;

export interface PodPage {
  /** The API server's path below the Pod's proxy, as the browser asked for it (still percent-encoded). */
  path: string;
  /** The query string without `?`, or empty. */
  search: string;
}

/** A Pod name (DNS subdomain) and a numeric port; anything else never reaches the API server. */
export const POD_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * True when `path` stays below the proxy: no `.` or `..` segment (even percent-encoded), which a URL parser would
 * fold into a path of the API server's own, and no backslash some parsers read as a slash.
 */
export function safeProxyPath(path: string): boolean {
  if (path.includes('\\')) return false;
  return path.split('/').every((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    return decoded !== '.' && decoded !== '..' && !decoded.includes('/') && !decoded.includes('\\');
  });
}

/** A REST client acting as the sandbox's learner ServiceAccount (cheap: connections are the agent's). */
function learnerClient(kube: Kube, namespace: string): RestClient {
  return new RestClient(kube.kc.impersonating(`system:serviceaccount:${namespace}:${LEARNER_SA}`));
}

/**
 * GET `page` from port `port` of Pod `pod` in `namespace`, as the learner: no header of the browser's goes along
 * (no cookie, no authorization). `undefined` when the answer is larger than PREVIEW_MAX_BYTES.
 */
export function fetchPodPage(
  kube: Kube,
  namespace: string,
  pod: string,
  port: number,
  page: PodPage,
): Promise<BytesResponse | undefined> {
  if (!POD_NAME.test(pod) || !Number.isInteger(port) || port < 1 || port > 65535 || !safeProxyPath(page.path)) {
    throw new Error('fetchPodPage: the caller must validate the Pod, port and path');
  }
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${pod}:${port}/proxy/`;
  const path = `${base}${page.path.replace(/^\/+/, '')}${page.search ? `?${page.search}` : ''}`;
  return learnerClient(kube, namespace).bytes(
    { path, accept: '*/*', timeoutMs: PREVIEW_TIMEOUT_MS },
    PREVIEW_MAX_BYTES,
  );
}
