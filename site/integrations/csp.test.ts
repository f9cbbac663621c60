// The build's inline-script hashes: what a browser computes for each script, and a refusal of inline handlers.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inlineHandler, inlineScriptHashes, siteCsp } from './csp.ts';

const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('inline scripts for the Content-Security-Policy', () => {
  it('hashes the exact text of each inline script, classic or module, and skips scripts with a src', () => {
    const theme = "\n  const t = localStorage.getItem('theme');\n";
    const html = `<head><script>${theme}</script><script type="module" src="/_astro/a.js"></script></head>
      <body><script type="module">import "/_astro/b.js";</script></body>`;
    expect(inlineScriptHashes(html)).toEqual([sha(theme), sha('import "/_astro/b.js";')]);
  });

  it('finds inline event handlers and javascript: URLs, not words inside attribute values', () => {
    expect(inlineHandler('<button type="button" onclick="go()">Go</button>')).toContain('onclick');
    expect(inlineHandler("<a href=' JavaScript:alert(1)'>x</a>")).toContain('JavaScript:');
    expect(inlineHandler('<img src=x onerror=alert(1)>')).toContain('onerror');
    expect(inlineHandler('<p data-cmd="echo onclick=1 > f" title=\'a onload=b\'>onclick="x"</p>')).toBeUndefined();
  });

  it('collects one sorted set for the whole site and names the page that has a handler', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csp-site-'));
    mkdirSync(join(dir, 'lessons', 'a'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<script>one()</script><script>two()</script>');
    writeFileSync(join(dir, 'lessons', 'a', 'index.html'), '<script>two()</script>');
    expect(await siteCsp(dir)).toEqual({ scriptHashes: [sha('one()'), sha('two()')].sort() });
    writeFileSync(join(dir, 'lessons', 'a', 'index.html'), '<body onload="boot()">');
    await expect(siteCsp(dir)).rejects.toThrow(/^lessons\/a\/index\.html: <body onload="boot\(\)"> holds inline code/);
  });
});
