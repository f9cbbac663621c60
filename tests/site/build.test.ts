// Builds the real site (and a deliberately broken one) and checks what a learner would get.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const astro = join(process.cwd(), 'node_modules', '.bin', 'astro');
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'sidecar-lab-site-'));
  await run(astro, ['build'], { env: { ...process.env, SIDECAR_LAB_SITE_OUT: outDir } });
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('the static site build', () => {
  it('writes one page per lesson, and the index links them in order', async () => {
    const lessonFiles = (await readdir('lessons')).filter((f) => f.endsWith('.mdx'));
    expect(lessonFiles.length).toBeGreaterThan(0);
    const index = await readFile(join(outDir, 'index.html'), 'utf8');
    const orders: Array<[number, string]> = [];
    for (const file of lessonFiles) {
      const slug = file.replace(/\.mdx$/, '');
      expect(existsSync(join(outDir, 'lessons', slug, 'index.html')), `page for ${file}`).toBe(true);
      const source = await readFile(join('lessons', file), 'utf8');
      orders.push([Number(/^order:\s*(\d+)/m.exec(source)?.[1]), slug]);
    }
    const expected = orders.sort((a, b) => a[0] - b[0]).map(([, slug]) => `/lessons/${slug}/`);
    const linked = [...index.matchAll(/href="(\/lessons\/[^"]+)"/g)].map((m) => m[1]);
    expect(linked).toEqual(expected);
  });

  it('renders a lesson through the lesson layout with its title, objectives and a main landmark', async () => {
    const html = await readFile(join(outDir, 'lessons', 'introduction', 'index.html'), 'utf8');
    expect(html).toContain('<main id="main"');
    expect(html).toMatch(/<h1[^>]*>Introduction to sidecar containers<\/h1>/);
    expect(html).toContain('You will learn to');
  });
});

/** The JavaScript a page loads before the learner opens the terminal: bytes per file, following static imports. */
async function initialJavaScript(html: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
  inline.forEach((code, i) => {
    files.set(`(inline script ${i + 1})`, Buffer.byteLength(code));
  });
  const queue = [
    ...[...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1] ?? ''),
    ...[...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1] ?? ''),
    ...inline.flatMap((code) => staticImports(code, '/')),
  ];
  while (queue.length > 0) {
    const url = queue.shift() ?? '';
    if (files.has(url)) continue;
    expect(url, 'scripts come from the site itself, not a CDN').toMatch(/^\/_astro\/[^/]+\.js$/);
    const code = await readFile(join(outDir, url), 'utf8');
    files.set(url, Buffer.byteLength(code));
    queue.push(...staticImports(code, url));
  }
  return files;
}

/** `import … from "./x.js"` and `import "./x.js"`, resolved against `from`; `import("./x.js")` is lazy and skipped. */
function staticImports(code: string, from: string): string[] {
  const found = [...code.matchAll(/\bimport\s*(?:[^"'()]*?\bfrom\s*)?["'](\.{1,2}\/[^"']+|\/[^"']+)["']/g)];
  return found.map((m) => new URL(m[1] ?? '', `http://site${from.startsWith('/') ? from : `/${from}`}`).pathname);
}

/** What any page of the course may load before the learner opens something heavy (the terminal, the editor). */
const BUDGET = 60 * 1024;

describe('lesson pages', () => {
  it('ship at most 60 KB of JavaScript before the terminal is opened, and never the terminal itself', async () => {
    const chunks = await readdir(join(outDir, '_astro'));
    const terminalChunks: string[] = [];
    for (const file of chunks.filter((f) => f.endsWith('.js'))) {
      if ((await readFile(join(outDir, '_astro', file), 'utf8')).includes('xterm-helper-textarea')) {
        terminalChunks.push(`/_astro/${file}`);
      }
    }
    expect(terminalChunks, 'xterm lives in one lazily loaded chunk').toHaveLength(1);
    const [terminalChunk] = terminalChunks;
    const sizes: Record<string, string> = {};
    for (const file of (await readdir('lessons')).filter((f) => f.endsWith('.mdx'))) {
      const slug = file.replace(/\.mdx$/, '');
      const html = await readFile(join(outDir, 'lessons', slug, 'index.html'), 'utf8');
      const js = await initialJavaScript(html);
      expect([...js.keys()], `${slug} must not load the terminal up front`).not.toContain(terminalChunk);
      const total = [...js.values()].reduce((a, b) => a + b, 0);
      sizes[slug] = `${(total / 1024).toFixed(1)} KB in ${js.size} files`;
      expect(total, `${slug}: ${[...js].map(([f, n]) => `${f} ${n}`).join(', ')}`).toBeLessThanOrEqual(BUDGET);
    }
    console.log('JavaScript before the terminal opens, per lesson page:', sizes);
    // The terminal chunk is reachable only through a dynamic import().
    const name = terminalChunk?.split('/').pop() ?? '';
    let lazyImporters = 0;
    for (const file of chunks.filter((f) => f.endsWith('.js'))) {
      const code = await readFile(join(outDir, '_astro', file), 'utf8');
      if (code.includes(`import("./${name}")`) || code.includes(`"_astro/${name}"`)) lazyImporters++;
    }
    expect(lazyImporters).toBeGreaterThan(0);
  });

  it('render every exercise a lesson lists, and list every exercise they render', async () => {
    for (const file of (await readdir('lessons')).filter((f) => f.endsWith('.mdx'))) {
      const slug = file.replace(/\.mdx$/, '');
      const source = await readFile(join('lessons', file), 'utf8');
      const listed = /^exercises:\s*\[(.*)\]/m
        .exec(source)?.[1]
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const html = await readFile(join(outDir, 'lessons', slug, 'index.html'), 'utf8');
      const rendered = [...html.matchAll(/<section[^>]*data-exercise="([^"]+)"/g)].map((m) => m[1]);
      expect(rendered.sort(), slug).toEqual((listed ?? []).sort());
      for (const id of rendered) expect(existsSync(join('exercises', id ?? '', 'exercise.ts')), id).toBe(true);
    }
  });

  it('give every diagram a role, a title and a description', async () => {
    let diagrams = 0;
    for (const slug of await readdir(join(outDir, 'lessons'))) {
      const html = await readFile(join(outDir, 'lessons', slug, 'index.html'), 'utf8');
      for (const svg of html.matchAll(/<svg class="dg"[^>]*>[\s\S]*?<\/svg>/g)) {
        diagrams++;
        expect(svg[0]).toMatch(/role="img"/);
        expect(svg[0]).toMatch(/<title id="[^"]+">[^<]+<\/title>/);
        expect(svg[0]).toMatch(/<desc id="[^"]+">[^<]+<\/desc>/);
      }
    }
    expect(diagrams).toBeGreaterThan(3);
  });

  it('keep the seed manifests byte for byte in the files learners create', async () => {
    const html = await readFile(join(outDir, 'lessons', 'logging-sidecar', 'index.html'), 'utf8');
    const attr = /data-create-path="logging-pod.yaml"[^>]*data-create-content="([^"]*)"/.exec(html)?.[1] ?? '';
    const decoded = attr.replace(/&#(\d+);|&(quot|amp|lt|gt|#39);/g, (_m, code: string, name: string) =>
      code ? String.fromCharCode(Number(code)) : ({ quot: '"', amp: '&', lt: '<', gt: '>', '#39': "'" }[name] ?? ''),
    );
    expect(decoded).toBe(await readFile(join('lessons', 'manifests', 'seed-logging-sidecar-example.yaml'), 'utf8'));
  });
});

describe('lesson frontmatter validation', () => {
  it('fails the build with a message naming the file and the bad field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sidecar-lab-bad-lessons-'));
    try {
      const bad = [
        '---',
        'title: Broken',
        'order: first',
        'seedSection: x',
        'objectives: [a]',
        'minutes: 5',
        '---',
        'x',
      ];
      await writeFile(join(dir, 'broken-order.mdx'), bad.join('\n'));
      const failure = await run(astro, ['sync'], {
        env: { ...process.env, SIDECAR_LAB_LESSONS_DIR: dir },
      }).then(
        () => null,
        (error: { stdout: string; stderr: string; code: number }) => error,
      );
      expect(failure, 'astro sync should fail on a bad lesson').not.toBeNull();
      const output = `${failure?.stdout}\n${failure?.stderr}`;
      expect(output).toContain('broken-order');
      expect(output).toMatch(/order/);
      expect(output).toMatch(/Expected type `"number"`|expected number/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('instructor pages (new workshop, dashboard)', () => {
  it("stay within the lesson pages' budget of JavaScript and never load the terminal", async () => {
    // The dashboard checks each pushed grid against the shared schema, written in zod/mini to keep this true.
    const sizes: Record<string, string> = {};
    for (const page of ['new', 'dashboard']) {
      const html = await readFile(join(outDir, 'workshops', page, 'index.html'), 'utf8');
      const js = await initialJavaScript(html);
      let total = 0;
      for (const [file, bytes] of js) {
        total += bytes;
        if (file.startsWith('/')) {
          const code = await readFile(join(outDir, file), 'utf8');
          expect(code.includes('xterm-helper-textarea'), `${page} loads the terminal through ${file}`).toBe(false);
        }
      }
      sizes[page] = `${(total / 1024).toFixed(1)} KB in ${js.size} files`;
      expect(total, `${page}: ${[...js].map(([f, n]) => `${f} ${n}`).join(', ')}`).toBeLessThanOrEqual(BUDGET);
    }
    console.log('JavaScript of the instructor pages:', sizes);
  });
});
