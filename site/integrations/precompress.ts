// Writes a Brotli and a gzip copy next to every text file of the built site, once at build time, so the server sends
// compressed bytes without compressing on each request.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { AstroIntegration } from 'astro';

const COMPRESSIBLE = /\.(html|js|mjs|css|svg|json|txt|xml|map)$/;
/** Below this, compression saves less than a packet and costs a header. */
const MIN_BYTES = 1024;

/** Compresses every file under `dir` worth compressing; returns how many it wrote (each as .br and .gz). */
export async function precompress(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path);
    if (bytes.length < MIN_BYTES) continue;
    await writeFile(`${path}.br`, brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    await writeFile(`${path}.gz`, gzipSync(bytes, { level: 9 }));
    count++;
  }
  return count;
}

export default function precompressIntegration(): AstroIntegration {
  return {
    name: 'sidecar-lab-precompress',
    hooks: {
      'astro:build:done': async ({ dir, logger }) => {
        const count = await precompress(fileURLToPath(dir));
        logger.info(`${count} files precompressed (.br, .gz)`);
      },
    },
  };
}
