// The built site as the server sends it: compressed bytes when the browser accepts them, caching by kind of file.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { siteCsp } from '../../../site/integrations/csp.ts';
import { precompress } from '../../../site/integrations/precompress.ts';
import { SITE_CSP_FILE } from '../protocol/site-csp.ts';
import { livePolicy, sitePolicy } from './csp.ts';
import { staticSite } from './static-site.ts';

const root = mkdtempSync(join(tmpdir(), 'static-site-'));
const themeScript = "document.documentElement.dataset.theme = 'dark';";
const page = `<!doctype html><title>Lesson</title><script>${themeScript}</script>${'<p>sidecars share a Pod</p>'.repeat(200)}`;
const bundle = `export const x = ${JSON.stringify('terminal '.repeat(500))};`;
mkdirSync(join(root, 'lessons', 'intro'), { recursive: true });
mkdirSync(join(root, '_astro'));
writeFileSync(join(root, 'lessons', 'intro', 'index.html'), page);
writeFileSync(join(root, '_astro', 'Terminal.DxY7a1.js'), bundle);
writeFileSync(join(root, 'tiny.txt'), 'small');
const app = new Hono().use('/*', staticSite(root));
const ORIGINS = ['http://lab.test', 'https://lab.example.org'];

describe('the static site', () => {
  it('precompresses text files worth it, and leaves small ones alone', async () => {
    expect(await precompress(root)).toBe(2);
  });

  it('sends Brotli, or gzip, or plain bytes, as the request accepts', async () => {
    const br = await app.request('/lessons/intro/', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(page);

    const gz = await app.request('/lessons/intro/', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(page);

    const plain = await app.request('/lessons/intro/');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(page);
  });

  it('caches hashed bundles for good and makes pages revalidate', async () => {
    const asset = await app.request('/_astro/Terminal.DxY7a1.js', { headers: { 'accept-encoding': 'br' } });
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    const lesson = await app.request('/lessons/intro/');
    expect(lesson.headers.get('cache-control')).toBe('no-cache');
  });

  it("sends pages, and only pages, with the course's Content-Security-Policy built from the build's hashes", async () => {
    writeFileSync(join(root, SITE_CSP_FILE), JSON.stringify(await siteCsp(root)));
    const { policy, hashes } = sitePolicy(root, ORIGINS);
    expect(hashes).toBe(1);
    const site = new Hono().use('/*', staticSite(root, { contentSecurityPolicy: policy }));
    for (const encoding of ['br', 'gzip', 'identity']) {
      const lesson = await site.request('/lessons/intro/', { headers: { 'accept-encoding': encoding } });
      const header = lesson.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(header.split('; ').map((d) => [d.split(' ')[0], d]));
      const hash = createHash('sha256').update(themeScript).digest('base64');
      expect(directives['script-src'], encoding).toBe(`script-src 'self' 'sha256-${hash}'`);
      expect(directives['connect-src']).toBe("connect-src 'self' ws://lab.test wss://lab.example.org");
      expect(directives['frame-ancestors']).toBe("frame-ancestors 'none'");
      expect(directives['object-src']).toBe("object-src 'none'");
      expect(header).not.toContain("script-src 'self' 'unsafe-inline'");
    }
    const bundle = await site.request('/_astro/Terminal.DxY7a1.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-security-policy')).toBeNull();
  });

  it('follows a rebuild: new hashes are read when the build rewrites them', async () => {
    const site = mkdtempSync(join(tmpdir(), 'static-site-rebuilt-'));
    const policy = livePolicy(site, ORIGINS);
    expect(policy()).toContain("script-src 'self';");
    writeFileSync(join(site, 'index.html'), '<script>one()</script>');
    writeFileSync(join(site, SITE_CSP_FILE), JSON.stringify(await siteCsp(site)));
    expect(policy()).toContain(`script-src 'self' 'sha256-${createHash('sha256').update('one()').digest('base64')}';`);
  });

  it("without the build's hashes, pages get the policy with no inline script allowed", () => {
    const bare = mkdtempSync(join(tmpdir(), 'static-site-bare-'));
    expect(sitePolicy(bare, ORIGINS)).toMatchObject({
      hashes: 0,
      policy: expect.stringContaining("script-src 'self';"),
    });
  });
});
