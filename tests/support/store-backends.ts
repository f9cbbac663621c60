// The stores the repository suite runs against: every backend must behave the same to its callers.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, inject } from 'vitest';
import { PostgresRepository } from '../../sandbox-server/src/store/postgres.ts';
import type { Repository } from '../../sandbox-server/src/store/repository.ts';
import { SqliteRepository } from '../../sandbox-server/src/store/sqlite.ts';

export interface StoreBackend {
  name: string;
  /** A new, empty place for data; the function it returns opens that place (again) as a new store instance. */
  place(): Promise<() => Promise<Repository>>;
}

const dirs: string[] = [];

export const sqliteBackend: StoreBackend = {
  name: 'sqlite',
  async place() {
    const dir = mkdtempSync(join(tmpdir(), 'slab-repo-'));
    dirs.push(dir);
    const file = join(dir, 'lab.db');
    return async () => new SqliteRepository(file);
  },
};

/** A new database in the throwaway cluster (tests/support/database-global-setup.ts) and its URL. */
export async function freshDatabase(): Promise<string> {
  const admin = new URL(inject('databaseUrl'));
  const name = `slab_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.href });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  admin.pathname = `/${name}`;
  return admin.href;
}

export const postgresBackend: StoreBackend = {
  name: 'postgres',
  async place() {
    const url = await freshDatabase();
    return () => PostgresRepository.open(url);
  },
};

export const storeBackends: StoreBackend[] = [sqliteBackend, postgresBackend];

/**
 * Opens stores on a backend for one describe block and closes whatever a test left open (a failed assertion skips
 * the test's own close), then removes the temporary files.
 */
export function storesOn(backend: StoreBackend): {
  open(): Promise<{ repo: Repository; reopen(): Promise<Repository> }>;
} {
  const opened: Repository[] = [];
  const closedOnce = (repo: Repository): Repository => {
    let closing: Promise<void> | undefined;
    const close = repo.close.bind(repo);
    repo.close = () => (closing ??= close());
    opened.push(repo);
    return repo;
  };
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((r) => r.close()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    async open() {
      const openPlace = await backend.place();
      return { repo: closedOnce(await openPlace()), reopen: async () => closedOnce(await openPlace()) };
    },
  };
}
