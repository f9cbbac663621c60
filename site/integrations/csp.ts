// Hashes every inline script of the built pages once, at build time, so the server's Content-Security-Policy can allow
// exactly those (`script-src 'self' 'sha256-…'`) and no other inline code; inline event handlers fail the build.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstroIntegration } from 'astro';
import { SITE_CSP_FILE, type SiteCspManifest } from '../../sandbox-server/src/protocol/site-csp.ts';

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi;
const TAG = /<[a-zA-Z][^\s/>]*((?:\s+[^\s"'=<>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
/** An attribute with its value; quoted values are consumed whole, so text inside one is never taken for a name. */
const ATTRIBUTE = /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

/** Markup that no hash can allow: `onclick="…"` and friends, `javascript:` URLs; the first one found, if any. */
export function inlineHandler(html: string): string | undefined {
  for (const tag of html.matchAll(TAG)) {
    for (const attribute of (tag[1] ?? '').matchAll(ATTRIBUTE)) {
      const name = attribute[1]?.toLowerCase() ?? '';
      const value = (attribute[2] ?? attribute[3] ?? attribute[4] ?? '').trim().toLowerCase();
      if (name.startsWith('on') || value.startsWith('javascript:')) return tag[0].slice(0, 80);
    }
  }
  return undefined;
}

/** The CSP source for each inline script of one page, in order. */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(INLINE_SCRIPT)].map(
    (m) =>
      `'sha256-${createHash('sha256')
        .update(m[1] ?? '')
        .digest('base64')}'`,
  );
}

/** The manifest for every page under `dir`; throws naming the page when one has an inline event handler. */
export async function siteCsp(dir: string): Promise<SiteCspManifest> {
  const hashes = new Set<string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.html')) continue;
    const path = join(entry.parentPath, entry.name);
    const html = await readFile(path, 'utf8');
    const handler = inlineHandler(html);
    if (handler) {
      throw new Error(`${relative(dir, path)}: ${handler} holds inline code the Content-Security-Policy refuses`);
    }
    for (const hash of inlineScriptHashes(html)) hashes.add(hash);
  }
  return { scriptHashes: [...hashes].sort() };
}

export default function cspIntegration(): AstroIntegration {
  return {
    name: 'sidecar-lab-csp',
    hooks: {
      'astro:build:done': async ({ dir, logger }) => {
        const root = fileURLToPath(dir);
        const manifest = await siteCsp(root);
        await writeFile(join(root, SITE_CSP_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
        logger.info(`${manifest.scriptHashes.length} inline script hashes for the Content-Security-Policy`);
      },
    },
  };
}
