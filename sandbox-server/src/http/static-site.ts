// Serves the built course: precompressed files when the browser takes them, hashed assets cached for good, pages
// revalidated so a new build shows at once.
import { serveStatic } from '@hono/node-server/serve-static';
import type { MiddlewareHandler } from 'hono';

/** Astro puts content-hashed bundles under /_astro/: their name changes whenever their bytes do. */
const HASHED = /^\/_astro\//;

/** Cache-Control for a served path. */
export function cacheControlFor(path: string): string {
  return HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/**
 * The site under `root`, with `.br`/`.gz` siblings sent as Content-Encoding when the request accepts them; pages
 * (HTML) carry `contentSecurityPolicy` when given.
 */
export function staticSite(
  root: string,
  options: { contentSecurityPolicy?: string | (() => string) } = {},
): MiddlewareHandler {
  const serve = serveStatic({ root, precompressed: true });
  return async (c, next) => {
    let served = true;
    const response = await serve(c, async () => {
      served = false; // not a file of the site: the next handler answers
      await next();
    });
    if (served && response) {
      response.headers.set('Cache-Control', cacheControlFor(new URL(c.req.url).pathname));
      const page = response.headers.get('content-type')?.startsWith('text/html');
      const policy = options.contentSecurityPolicy;
      if (page && policy)
        response.headers.set('Content-Security-Policy', typeof policy === 'string' ? policy : policy());
    }
    return response;
  };
}
