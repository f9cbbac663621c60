// What the site's build tells the server for its Content-Security-Policy: the hashes of the pages' inline scripts.
import { z } from 'zod';

/** Written by the build into the site's folder (site/integrations/csp.ts), read by the server at start-up. */
export const SITE_CSP_FILE = '_csp.json';

export const siteCspManifest = z.object({
  /** `'sha256-…'` sources, one per distinct inline script of any page, sorted. */
  scriptHashes: z.array(z.string().regex(/^'sha256-[A-Za-z0-9+/]+={0,2}'$/)),
});
export type SiteCspManifest = z.infer<typeof siteCspManifest>;
