// The Content-Security-Policy of the course pages: scripts from the site itself plus the inline scripts the build
// hashed, connections to this server and the terminal's WebSocket, and no framing at all.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseOrExplain } from '../protocol/explain.ts';
import { SITE_CSP_FILE, siteCspManifest } from '../protocol/site-csp.ts';

/**
 * The policy for pages with these inline-script hashes, whose terminal may connect to `allowedOrigins` (the origins
 * allowed to open terminals, as ws:/wss:). Styles allow 'unsafe-inline': Shiki colours code with style attributes and
 * xterm.js adds <style> elements at run time; no hash can cover either, and styles cannot run code.
 */
export function coursePagePolicy(scriptHashes: readonly string[], allowedOrigins: readonly string[]): string {
  const sockets = allowedOrigins.map((origin) => origin.replace(/^http/, 'ws'));
  return [
    "default-src 'self'",
    ["script-src 'self'", ...scriptHashes].join(' '),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...sockets].join(' '),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The policy for the site built into `siteDir`, from the hashes its build wrote. A folder without them (no site built
 * yet) gets the policy without inline scripts: every page script then has to come from a file.
 */
export function sitePolicy(siteDir: string, allowedOrigins: readonly string[]): { policy: string; hashes: number } {
  const file = join(siteDir, SITE_CSP_FILE);
  const manifest = existsSync(file)
    ? parseOrExplain(siteCspManifest, JSON.parse(readFileSync(file, 'utf8')), file)
    : { scriptHashes: [] };
  return { policy: coursePagePolicy(manifest.scriptHashes, allowedOrigins), hashes: manifest.scriptHashes.length };
}

/**
 * The site's policy, read again whenever the build rewrites its hashes (a rebuild while the server runs gives inline
 * scripts new hashes; the old policy would refuse them). One stat per page served.
 */
export function livePolicy(siteDir: string, allowedOrigins: readonly string[]): () => string {
  let seen: number | undefined;
  let policy = '';
  return () => {
    const mtime = statSync(join(siteDir, SITE_CSP_FILE), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (mtime !== seen) {
      seen = mtime;
      policy = sitePolicy(siteDir, allowedOrigins).policy;
    }
    return policy;
  };
}
