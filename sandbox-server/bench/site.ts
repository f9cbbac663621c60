// Site weight: per lesson page, the JavaScript a learner downloads before opening the terminal (page scripts and their
// static imports), the whole page's weight, and the terminal chunk (what the dynamic import loads) apart — gzipped,
// as a server sends them. Measured on a fresh build of whatever lessons exist.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type Lab, REPO } from './lib/lab.ts';
import { type BenchResult, resultOf, withTarget } from './lib/results.ts';

const run = promisify(execFile);
const KB = 1024;

/** Newest modification time under `path` (files only), skipping folders that are build output or dependencies. */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

/**
 * The built site to measure. `dist/site` is used when it is newer than every source the build reads; otherwise the
 * site is built into a temporary folder. In quick mode an older `dist/site` is accepted (the numbers are only a smoke
 * test there), and the row says so.
 */
export async function builtSite(
  lab: Lab,
): Promise<{ dir: string; note?: string; buildSeconds?: number; cleanup?: () => void }> {
  const dist = join(REPO, 'dist', 'site');
  const sources = ['site', 'lessons', 'exercises', 'astro.config.mjs', 'package-lock.json']
    .map((p) => join(REPO, p))
    .filter((p) => existsSync(p));
  const distIndex = join(dist, 'index.html');
  if (existsSync(distIndex)) {
    const stale = statSync(distIndex).mtimeMs < Math.max(...sources.map(newest));
    if (!stale) return { dir: dist };
    if (lab.quick) return { dir: dist, note: 'dist/site is older than its sources (quick mode measures it anyway)' };
  }
  const out = mkdtempSync(join(tmpdir(), 'slab-bench-site-'));
  const t0 = performance.now();
  await run(join(REPO, 'node_modules', '.bin', 'astro'), ['build'], {
    cwd: REPO,
    env: { ...process.env, SIDECAR_LAB_SITE_OUT: out },
    maxBuffer: 64 << 20,
  });
  return {
    dir: out,
    buildSeconds: (performance.now() - t0) / 1000,
    cleanup: () => rmSync(out, { recursive: true, force: true }),
  };
}

interface Weight {
  raw: number;
  gzip: number;
}
const weigh = (bytes: Buffer | string): Weight => ({
  raw: Buffer.byteLength(bytes),
  gzip: gzipSync(bytes).length,
});
const add = (a: Weight, b: Weight): Weight => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip });
const ZERO: Weight = { raw: 0, gzip: 0 };

/** A built asset by its URL path ("/_astro/x.js"), or undefined for external or missing ones. */
function asset(root: string, url: string): string | undefined {
  if (/^(https?:)?\/\//.test(url) || url.startsWith('data:')) return undefined;
  const file = join(root, decodeURIComponent(url.split(/[?#]/)[0]!));
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

const STATIC_IMPORT = /(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["'`]([^"'`]+\.m?js)["'`]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*["'`]([^"'`]+\.m?js)["'`]\s*\)/g;
// Vite lists a dynamic import's dependencies (JS and CSS) for preloading: loaded with the chunk, not before.
const VITE_DEPS = /__vite__mapDeps=.*?\[((?:\s*"[^"]+"\s*,?)+)\]/s;

/** Follows static imports from `entries`; returns the files reached and the dynamic imports found on the way. */
function closure(root: string, entries: readonly string[]) {
  const seen = new Set<string>();
  const lazy = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const resolveRef = (ref: string) =>
      asset(root, ref.startsWith('/') ? ref : `/${relative(root, join(dirname(file), ref))}`);
    for (const [, ref] of text.matchAll(STATIC_IMPORT)) {
      const target = resolveRef(ref!);
      if (target) queue.push(target);
    }
    for (const [, ref] of text.matchAll(DYNAMIC_IMPORT)) {
      const target = resolveRef(ref!);
      if (target) lazy.add(target);
    }
    const deps = VITE_DEPS.exec(text)?.[1];
    for (const [, ref] of deps?.matchAll(/"([^"]+)"/g) ?? []) {
      const target = asset(root, `/${ref}`);
      if (target) lazy.add(target);
    }
  }
  return { files: seen, lazy };
}

const attr = (tag: string, name: string) => new RegExp(`\\b${name}=["']([^"']+)["']`).exec(tag)?.[1];

/** What one page costs before the terminal opens, and which files the terminal would load. */
function measurePage(root: string, html: string) {
  let inlineJs = ZERO;
  const scripts: string[] = [];
  for (const [, open, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    const type = attr(open!, 'type');
    if (type && !/module|javascript/.test(type)) continue; // JSON data blocks are not code
    const src = attr(open!, 'src');
    const file = src ? asset(root, src) : undefined;
    if (file) scripts.push(file);
    else if (body!.trim()) inlineJs = add(inlineJs, weigh(body!));
  }
  for (const [tag] of html.matchAll(/<link\b[^>]*rel=["']modulepreload["'][^>]*>/g)) {
    const file = asset(root, attr(tag, 'href') ?? '');
    if (file) scripts.push(file);
  }
  // Islands that hydrate on their own (client:load/idle/visible) load their component before any click.
  for (const [tag] of html.matchAll(/<astro-island\b[^>]*>/g)) {
    for (const name of ['component-url', 'renderer-url']) {
      const file = asset(root, attr(tag, name) ?? '');
      if (file) scripts.push(file);
    }
  }
  const eager = closure(root, scripts);
  const css = [...html.matchAll(/<link\b[^>]*rel=["']stylesheet["'][^>]*>/g)]
    .map(([tag]) => asset(root, attr(tag, 'href') ?? ''))
    .filter((f): f is string => Boolean(f));
  const media = [...html.matchAll(/<(?:img|source)\b[^>]*\bsrc=["']([^"']+)["']/g)]
    .map(([, src]) => asset(root, src!))
    .filter((f): f is string => Boolean(f));
  const fonts = css.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/url\(\s*["']?([^"')]+\.(?:woff2?|ttf|otf))["']?\s*\)/g)]
      .map(([, ref]) => asset(root, ref!.startsWith('/') ? ref! : `/${relative(root, join(dirname(file), ref!))}`))
      .filter((f): f is string => Boolean(f)),
  );
  const sum = (files: Iterable<string>) => [...new Set(files)].reduce((w, f) => add(w, weigh(readFileSync(f))), ZERO);
  const js = add(inlineJs, sum(eager.files));
  const lazyOnly = [...eager.lazy].filter((f) => !eager.files.has(f));
  return {
    js,
    page: add(add(add(weigh(html), js), sum(css)), sum([...media, ...fonts])),
    lazy: lazyOnly,
  };
}

export async function site(lab: Lab): Promise<BenchResult[]> {
  const built = await builtSite(lab);
  try {
    const lessonsDir = join(built.dir, 'lessons');
    const slugs = existsSync(lessonsDir)
      ? readdirSync(lessonsDir).filter((s) => existsSync(join(lessonsDir, s, 'index.html')))
      : [];
    if (slugs.length === 0) throw new Error(`no lesson pages in ${built.dir}`);
    const pages = slugs.map((slug) => ({
      slug,
      ...measurePage(built.dir, readFileSync(join(lessonsDir, slug, 'index.html'), 'utf8')),
    }));
    // The terminal chunk: everything the pages import lazily, with its own static imports (and preloaded CSS).
    const lazyEntries = [...new Set(pages.flatMap((p) => p.lazy))];
    const lazyJs = lazyEntries.filter((f) => f.endsWith('.js'));
    const lazyClosure = closure(built.dir, lazyJs).files;
    const lazyFiles = new Set([...lazyClosure, ...lazyEntries.filter((f) => f.endsWith('.css'))]);
    const terminal = [...lazyFiles].reduce((w, f) => add(w, weigh(readFileSync(f))), ZERO);

    const perPage = Object.fromEntries(
      pages.map((p) => [
        p.slug,
        { jsGzipKB: p.js.gzip / KB, jsRawKB: p.js.raw / KB, pageGzipKB: p.page.gzip / KB, pageRawKB: p.page.raw / KB },
      ]),
    );
    const common = { name: 'site', unit: 'KB' };
    return [
      withTarget(
        resultOf(
          {
            ...common,
            metric: 'JS before the terminal opens, per lesson page (gzip)',
            ...(built.note ? { note: built.note } : {}),
            details: { perPage, ...(built.buildSeconds ? { buildSeconds: built.buildSeconds } : {}) },
          },
          pages.map((p) => p.js.gzip / KB),
        ),
        'every page ≤ 60 KB',
        'max',
        '<=',
        60,
      ),
      resultOf(
        { ...common, metric: 'JS before the terminal opens (minified, not gzipped)' },
        pages.map((p) => p.js.raw / KB),
      ),
      resultOf(
        { ...common, metric: 'page weight before the terminal opens (gzip)' },
        pages.map((p) => p.page.gzip / KB),
      ),
      resultOf(
        {
          ...common,
          metric: 'terminal chunk, loaded when it opens (gzip)',
          details: {
            files: [...lazyFiles].map((f) => relative(built.dir, f)),
            rawKB: terminal.raw / KB,
          },
        },
        [terminal.gzip / KB],
      ),
    ];
  } finally {
    built.cleanup?.();
  }
}
