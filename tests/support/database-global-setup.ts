// For the database tests: a throwaway PostgreSQL cluster from Debian's packages, made in a temp folder, started on a
// free port, handed to the tests as a URL and removed at the end. Debian's `postgresql` is installed when missing,
// the way the e2e tests install Chromium; where it cannot be, the tests fail saying what to install.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from './e2e-global-setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the throwaway cluster; each test makes its own database in it. */
    databaseUrl: string;
  }
}

const PG_ROOT = '/usr/lib/postgresql';
/** The embedded local cluster's node address and Pod network (sandbox-server/cluster/local/lib.sh). */
export const LOCAL_NODE_IP = '10.240.0.1';
const LOCAL_POD_CIDR = '10.244.0.0/16';

const hasAddress = (ip: string) =>
  Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === ip));
const MISSING =
  'the PostgreSQL tests need the PostgreSQL server binaries (Debian package `postgresql`, e.g. ' +
  '`apt-get install postgresql`; any PostgreSQL >= 13 whose initdb and pg_ctl are in /usr/lib/postgresql/<version>/bin)';

/** The newest installed server's bin folder, if any. */
function serverBin(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(PG_ROOT, versions[0], 'bin') : undefined;
}

function ensurePostgres(): string {
  const found = serverBin();
  if (found) return found;
  const root = process.getuid?.() === 0;
  let apt = false;
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    apt = true;
  } catch {}
  if (!root || !apt) throw new Error(`database tests: ${MISSING}`);
  console.error('[database] installing Debian package: postgresql');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'postgresql'], { stdio: 'inherit', env });
  const installed = serverBin();
  if (!installed) throw new Error(`database tests: apt-get installed postgresql, but ${MISSING}`);
  return installed;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = ensurePostgres();
  // PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user the package creates.
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { stdio: 'pipe' })
      : execFileSync(join(bin, tool), args, { stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'slab-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-locale', '-E', 'UTF8']);
    // On the local cluster's node address too, so the server's Pods can share it (deploy/deploy.cluster.test.ts runs
    // two replicas on it); only that cluster's Pod network may connect there.
    const addresses = ['127.0.0.1', ...(hasAddress(LOCAL_NODE_IP) ? [LOCAL_NODE_IP] : [])];
    if (addresses.includes(LOCAL_NODE_IP)) {
      appendFileSync(join(data, 'pg_hba.conf'), `host all all ${LOCAL_POD_CIDR} trust\n`);
    }
    // Durability is pointless for a cluster thrown away at the end; without fsync the tests wait less on the disk.
    const options = `-p ${port} -k ${dir} -c listen_addresses=${addresses.join(',')} -c fsync=off -c synchronous_commit=off`;
    run('pg_ctl', ['-D', data, '-l', log, '-o', options, '-w', '-t', '120', 'start']);
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`database tests: could not start PostgreSQL from ${bin}: ${stderr}\n${serverLog}`, {
      cause: error,
    });
  }
  project.provide('databaseUrl', `postgres://postgres@127.0.0.1:${port}/postgres`);
  return async () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
