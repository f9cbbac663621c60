import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../tests/support/store-backends.ts';
import { POSTGRES_SCHEMA_VERSION, PostgresRepository } from './postgres.ts';

const opened: PostgresRepository[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((r) => r.close()));
});

async function versions(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT version FROM schema_version ORDER BY version');
    return rows.map((r) => Number(r.version));
  } finally {
    await client.end();
  }
}

describe('PostgreSQL store: migrations', () => {
  it('migrates an empty database once when replicas start together, and not again on a restart', async () => {
    const url = await freshDatabase();
    // Without the advisory lock, racing CREATE TABLEs fail with duplicate-object errors.
    const replicas = await Promise.all([1, 2, 3, 4].map(() => PostgresRepository.open(url, { maxConnections: 2 })));
    opened.push(...replicas);
    const expected = Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1);
    expect(await versions(url)).toEqual(expected);

    await replicas[0]!.markLessonRead('s1', 'introduction');
    const restarted = await PostgresRepository.open(url);
    opened.push(restarted);
    expect(await versions(url)).toEqual(expected);
    expect((await restarted.progress('s1')).lessonsRead).toEqual(['introduction']);
  });

  it('refuses to start on a database it cannot reach, naming nothing but the error', async () => {
    const url = new URL(await freshDatabase());
    url.pathname = '/no_such_database';
    await expect(PostgresRepository.open(url.href)).rejects.toThrow(/no_such_database/);
  });
});
