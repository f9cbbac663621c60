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
