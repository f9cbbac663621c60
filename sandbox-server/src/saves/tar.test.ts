import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarGz } from './tar.ts';

describe('tarGz', () => {
  it('writes an archive that GNU tar lists and extracts byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slab-tar-'));
    const binary = Buffer.from([0, 1, 2, 255, 254, 10]);
    const archive = tarGz([
      { name: 'manifests.yaml', content: Buffer.from('kind: Pod\n') },
      { name: 'home.tar.gz', content: binary },
      { name: 'empty', content: Buffer.alloc(0) },
    ]);
    writeFileSync(join(dir, 'save.tar.gz'), archive);
    const listing = execFileSync('tar', ['tzf', join(dir, 'save.tar.gz')], { encoding: 'utf8' });
    expect(listing.split('\n').filter(Boolean)).toEqual(['manifests.yaml', 'home.tar.gz', 'empty']);
    execFileSync('tar', ['xzf', join(dir, 'save.tar.gz'), '-C', dir]);
    expect(readFileSync(join(dir, 'manifests.yaml'), 'utf8')).toBe('kind: Pod\n');
    expect(readFileSync(join(dir, 'home.tar.gz'))).toEqual(binary);
  });

  it('refuses a name longer than the format holds', () => {
    expect(() => tarGz([{ name: 'x'.repeat(101), content: Buffer.alloc(1) }])).toThrow(/longer than 100 bytes/);
  });
});
