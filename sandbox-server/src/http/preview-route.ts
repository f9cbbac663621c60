// GET /preview/sandboxes/:id/pods/:pod/:port/<path>: what a Pod of the learner's own sandbox serves on a port.
import type { Handler } from 'hono';
import type { Kube } from '../cluster/kube.ts';
import { fetchPodPage, POD_NAME, safeProxyPath } from '../cluster/pod-proxy.ts';
import type { Sandbox, Sandboxes } from '../sandboxes/sandboxes.ts';
import type { AppEnv } from './env.ts';
import { ApiError } from './errors.ts';
import { clientAddress } from './peer.ts';
import { previewRefusal, previewResponse } from './preview.ts';
import type { ProbeLimiter } from './probe-limit.ts';
import { ownSandbox } from './routes/sandboxes.ts';

export interface PreviewDeps {
  kube: Kube;
  probes: ProbeLimiter;
  sandboxes: Sandboxes;
}

/** The API server's words in a Status body, or the text's start. */
function apiMessage(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  } catch {
    // not a Status: a proxy's or the Pod's own page
  }
  return text.slice(0, 300);
}

export function previewRoute(deps: PreviewDeps): Handler<AppEnv> {
  return async (c) => {
    const session = c.get('session');
    const address = clientAddress(c);
    const wait = await deps.probes.retryAfter(session, address);
    if (wait !== undefined)
      return previewRefusal(429, `Too many previews of sandboxes that do not exist; wait ${wait} s.`);
    // The caller's own sandbox only; anyone else's is missing, exactly like one that never existed.
    const id = c.req.param('id') ?? '';
    const sandbox: Sandbox | undefined =
      id.length > 64
        ? undefined
        : await ownSandbox(deps.sandboxes, session, id).catch((error: unknown) => {
            if (error instanceof ApiError && error.code === 'not_found') return undefined;
            throw error; // the cluster did not answer: not a miss
          });
    if (!sandbox) {
      await deps.probes.miss(session, address);
      return previewRefusal(404, 'No such sandbox.');
    }
    if (sandbox.status !== 'ready') return previewRefusal(409, `The sandbox is ${sandbox.status}.`);

    const pod = c.req.param('pod') ?? '';
    const port = Number(c.req.param('port'));
    if (!POD_NAME.test(pod) || !/^[0-9]{1,5}$/.test(c.req.param('port') ?? '') || port < 1 || port > 65535) {
      return previewRefusal(400, 'A preview needs a Pod name and a port number.');
    }
    // The rest of the path exactly as the browser sent it (still encoded), below `/<port>`.
    const url = new URL(c.req.url);
    const marker = `/pods/${pod}/${c.req.param('port')}`;
    const rest = url.pathname.slice(url.pathname.indexOf(marker) + marker.length);
    // Relative links on the Pod's page resolve below the port only when the URL ends in a slash.
    if (rest === '') return c.redirect(`${url.pathname}/${url.search}`, 308);
    if (!safeProxyPath(rest)) return previewRefusal(400, 'That path leads outside the Pod.');

    const answer = await fetchPodPage(deps.kube, sandbox.namespace, pod, port, {
      path: rest,
      search: url.search.slice(1),
    }).catch((error: unknown) =>
      (error as Error).name === 'TimeoutError' ? ('timeout' as const) : Promise.reject(error),
    );
    if (answer === 'timeout') return previewRefusal(504, `Pod ${pod} did not answer on port ${port} in time.`);
    if (answer === undefined) return previewRefusal(502, `Pod ${pod} sent more than a preview shows (2 MiB).`);
    // The API server's own refusals (no such Pod, nothing listening) come as a Status; say them plainly.
    const fromApiServer = answer.headers['content-type']?.startsWith('application/json') && answer.status >= 400;
    if (fromApiServer && /"kind"\s*:\s*"Status"/.test(answer.body.toString('utf8'))) {
      return previewRefusal(
        answer.status === 404 ? 404 : 502,
        `No preview of ${pod}:${port}: ${apiMessage(answer.body)}`,
      );
    }
    return previewResponse(answer);
  };
}
