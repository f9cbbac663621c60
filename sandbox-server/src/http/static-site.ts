// Serves the built course: precompressed files when the browser takes them, hashed assets cached for good, pages
// revalidated so a new build shows at once.
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, MiddlewareHandler } from 'hono';

/** Astro puts content-hashed bundles under /_astro/: their name changes whenever their bytes do. */
const HASHED = /^\/_astro\//;

/** Where the built site lives and the Content-Security-Policy its pages carry. */
export interface SiteOptions {
  /** The folder Astro built into (SIDECAR_LAB_SITE_DIR). */
  root: string;
  contentSecurityPolicy?: string | (() => string);
}

/** Cache-Control for a served path. */
export function cacheControlFor(path: string): string {
  return HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** Caching by path, and the site's policy on pages (HTML) only. */
function withSiteHeaders(response: Response, path: string, policy: SiteOptions['contentSecurityPolicy']): Response {
  response.headers.set('Cache-Control', cacheControlFor(path));
  const page = response.headers.get('content-type')?.startsWith('text/html');
  if (page && policy) response.headers.set('Content-Security-Policy', typeof policy === 'string' ? policy : policy());
  return response;
}

/**
 * The site under `root`, with `.br`/`.gz` siblings sent as Content-Encoding when the request accepts them; pages
 * (HTML) carry `contentSecurityPolicy` when given.
 */
export function staticSite(root: string, options: Omit<SiteOptions, 'root'> = {}): MiddlewareHandler {
  const serve = serveStatic({ root, precompressed: true });
  return async (c, next) => {
    let served = true;
    const response = await serve(c, async () => {
      served = false; // not a file of the site: the next handler answers
      await next();
    });
    if (served && response)
      return withSiteHeaders(response, new URL(c.req.url).pathname, options.contentSecurityPolicy);
    return response;
  };
}

/**
 * One built page of the site sent at a path the site cannot name (the dashboard's `/workshops/:id/dashboard`), with
 * the headers of the site's own pages; undefined when the site has no such file (not built).
 */
export function sitePage(site: SiteOptions, file: string): (c: Context) => Promise<Response | undefined> {
  // Made at the first request: serveStatic complains at once about a missing root, and most apps never send this page.
  let serve: MiddlewareHandler | undefined;
  return async (c) => {
    serve ??= serveStatic({ root: site.root, path: file, precompressed: true });
    let found = true;
    const response = await serve(c, async () => {
      found = false;
    });
    return found && response ? withSiteHeaders(response, `/${file}`, site.contentSecurityPolicy) : undefined;
  };
}
