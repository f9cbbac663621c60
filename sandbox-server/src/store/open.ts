// Picks the store from the configuration: PostgreSQL when a database URL is set, otherwise SQLite in the data folder.
import { join } from 'node:path';
import type { Repository } from './repository.ts';
import { SqliteRepository } from './sqlite.ts';

export interface StoreConfig {
  dataDir: string;
  SIDECAR_LAB_DATABASE_URL?: string | undefined;
}

export async function openRepository(config: StoreConfig): Promise<Repository> {
  if (config.SIDECAR_LAB_DATABASE_URL) {
    // Loaded only when asked for, so the embedded default never loads the PostgreSQL driver.
    const { PostgresRepository } = await import('./postgres.ts');
    return PostgresRepository.open(config.SIDECAR_LAB_DATABASE_URL);
  }
  return new SqliteRepository(join(config.dataDir, 'sidecar-lab.db'));
}
