import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../tests/support/store-backends.ts';
import { openRepository } from './open.ts';
import { PostgresRepository } from './postgres.ts';
import { SqliteRepository } from './sqlite.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('openRepository', () => {
  it('keeps the store in SQLite in the data folder unless a database URL is set, then in PostgreSQL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slab-open-'));
    dirs.push(dataDir);
    const embedded = await openRepository({ dataDir });
    expect(embedded).toBeInstanceOf(SqliteRepository);
    await embedded.markLessonRead('s1', 'introduction');
    await embedded.close();

    const shared = await openRepository({ dataDir, SIDECAR_LAB_DATABASE_URL: await freshDatabase() });
    expect(shared).toBeInstanceOf(PostgresRepository);
    // A fresh database: nothing of the SQLite file's shows through.
    expect((await shared.progress('s1')).lessonsRead).toEqual([]);
    await shared.close();

    const again = await openRepository({ dataDir });
    expect((await again.progress('s1')).lessonsRead).toEqual(['introduction']);
    await again.close();
  });
});
