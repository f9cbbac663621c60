// The built site as the server sends it: compressed bytes when the browser accepts them, caching by kind of file.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { precompress } from '../../../site/integrations/precompress.ts';
import { staticSite } from './static-site.ts';

const root = mkdtempSync(join(tmpdir(), 'static-site-'));
const page = `<!doctype html><title>Lesson</title>${'<p>sidecars share a Pod</p>'.repeat(200)}`;
const bundle = `export const x = ${JSON.stringify('terminal '.repeat(500))};`;
mkdirSync(join(root, 'lessons', 'intro'), { recursive: true });
mkdirSync(join(root, '_astro'));
writeFileSync(join(root, 'lessons', 'intro', 'index.html'), page);
writeFileSync(join(root, '_astro', 'Terminal.DxY7a1.js'), bundle);
writeFileSync(join(root, 'tiny.txt'), 'small');
const app = new Hono().use('/*', staticSite(root));

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
});
