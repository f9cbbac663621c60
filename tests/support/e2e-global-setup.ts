// For the browser tests: Debian's Chromium, the local cluster, a fresh site build and the real server on a free port.
// SIDECAR_LAB_E2E_URL skips all of it and points the tests at a server that is already running.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { SERVER_NODE_FLAGS } from '../../sandbox-server/src/node-flags.ts';
import bringUpCluster from './cluster-global-setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Origin of the server under test, e.g. http://127.0.0.1:43121. */
    e2eBaseUrl: string;
    /** The built site, for tests that start a server of their own (the instructor's pages are the site's). */
    e2eSiteDir: string;
  }
}

export const CHROMIUM = '/usr/bin/chromium';
const LOG_DIR = 'test-results';

/** Installs Debian's Chromium when it is missing, the way cluster.sh installs its packages. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  console.error('[e2e] installing Debian package: chromium');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is still missing`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, server: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`the server exited with ${server.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet: keep polling until the deadline.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the server did not answer ${url}/healthz within ${timeoutMs} ms; see ${logFile}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureChromium();
  const external = process.env.SIDECAR_LAB_E2E_URL;
  if (external) {
    project.provide('e2eBaseUrl', external.replace(/\/$/, ''));
    project.provide('e2eSiteDir', 'dist/site');
    return async () => {};
  }

  bringUpCluster();
  const work = mkdtempSync(join(tmpdir(), 'sidecar-lab-e2e-'));
  const siteDir = join(work, 'site');
  console.error('[e2e] building the site');
  execFileSync('node_modules/.bin/astro', ['build'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SIDECAR_LAB_SITE_OUT: siteDir },
  });

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, 'e2e-server.log');
  const log = createWriteStream(logFile);
  const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'sandbox-server/src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SIDECAR_LAB_ALLOWED_ORIGINS: url,
      SIDECAR_LAB_POOL_SIZE: '1',
      SIDECAR_LAB_SITE_DIR: siteDir,
      SIDECAR_LAB_DATA_DIR: join(work, 'data'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.pipe(log);
  server.stderr?.pipe(log);
  console.error(`[e2e] server on ${url} (log: ${logFile})`);
  await waitForHealth(url, server, logFile, 180_000);
  project.provide('e2eBaseUrl', url);
  project.provide('e2eSiteDir', siteDir);

  return async () => {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(work, { recursive: true, force: true });
  };
}
