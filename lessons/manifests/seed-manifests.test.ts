// The seed document's YAML examples are kept byte for byte: lessons and cluster tests apply these files unchanged.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const seedPath = 'lessons/seed/sidecar-containers.md';
/** The shared copy the course was written from, beside the repository when it is there. */
const upstreamSeed = '../shared/seed/sidecar-containers.md';

const files = ['seed-nginx-with-sidecar.yaml', 'seed-logging-sidecar-example.yaml', 'seed-proxy-sidecar-example.yaml'];

describe('seed manifests', () => {
  it('match the YAML blocks of the seed document, in order', () => {
    const seed = readFileSync(seedPath, 'utf8');
    const blocks = [...seed.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toHaveLength(files.length);
    files.forEach((file, i) => {
      expect(readFileSync(`lessons/manifests/${file}`, 'utf8'), file).toBe(blocks[i]);
    });
    if (existsSync(upstreamSeed)) expect(readFileSync(upstreamSeed, 'utf8')).toBe(seed);
  });
});
