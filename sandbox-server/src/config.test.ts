import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, configUsage, flagsToEnv, loadConfig, wantsHelp } from './config.ts';

const dataDir = () => mkdtempSync(join(tmpdir(), 'slab-config-'));

describe('loadConfig', () => {
  it('has sensible defaults and keeps a generated secret across restarts', () => {
    const dir = dataDir();
    const first = loadConfig({ SIDECAR_LAB_DATA_DIR: dir });
    expect(first.PORT).toBe(4321);
    expect(first.SIDECAR_LAB_POOL_SIZE).toBe(2);
    expect(first.SIDECAR_LAB_ALLOWED_IMAGES).toEqual(['busybox', 'nginx']);
    expect(first.allowedOrigins).toEqual(['http://localhost:4321', 'http://127.0.0.1:4321']);
    expect(first.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ SIDECAR_LAB_DATA_DIR: dir }).sessionSecret).toBe(first.sessionSecret);
  });

  it('names the key of a bad value', () => {
    expect(() => loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir(), SIDECAR_LAB_POOL_SIZE: 'lots' })).toThrow(
      /SIDECAR_LAB_POOL_SIZE/,
    );
    expect(() => loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir(), SIDECAR_LAB_CLUSTER: 'minikube' })).toThrow(
      /SIDECAR_LAB_CLUSTER/,
    );
    expect(() => loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir(), SIDECAR_LAB_SESSION_SECRET: 'short' })).toThrow(
      /SIDECAR_LAB_SESSION_SECRET: must be at least 32 characters/,
    );
  });

  it('takes a PostgreSQL URL for the store, and refuses any other without echoing it (it holds a password)', () => {
    const url = 'postgres://lab:pw@db.example.org:5432/sidecar_lab';
    expect(
      loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir(), SIDECAR_LAB_DATABASE_URL: url }).SIDECAR_LAB_DATABASE_URL,
    ).toBe(url);
    expect(loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir() }).SIDECAR_LAB_DATABASE_URL).toBeUndefined();
    const wrong = () =>
      loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir(), SIDECAR_LAB_DATABASE_URL: 'mysql://lab:s3cret@db/lab' });
    expect(wrong).toThrow(/SIDECAR_LAB_DATABASE_URL: a PostgreSQL URL/);
    expect(wrong).not.toThrow(/s3cret/);
  });

  it('takes flags over environment variables, and refuses unknown flags', () => {
    const config = loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir(), PORT: '1000' }, ['--port', '2000', '--pool-size=0']);
    expect(config.PORT).toBe(2000);
    expect(config.SIDECAR_LAB_POOL_SIZE).toBe(0);
    expect(() => flagsToEnv(['--port'])).toThrow('--port needs a value');
    expect(() => loadConfig({ SIDECAR_LAB_DATA_DIR: dataDir() }, ['--colour=blue'])).toThrow('unknown flag --colour');
  });

  it('prints every flag with its variable and default for --help', () => {
    const usage = configUsage();
    expect(wantsHelp(['--pool-size=1', '--help'])).toBe(true);
    expect(usage).toMatch(/--pool-size\s+SIDECAR_LAB_POOL_SIZE \(default 2\)/);
    expect(usage).toMatch(/--port\s+PORT \(default 4321\)/);
    for (const key of Object.keys(configSchema.shape)) expect(usage).toContain(key);
  });
});

describe('OpenID Connect settings', () => {
  it('go together: an issuer without a client (or the other way round) stops the start with both names', () => {
    expect(() => loadConfig({ SIDECAR_LAB_OIDC_ISSUER: 'https://id.example.com' })).toThrow(
      /SIDECAR_LAB_OIDC_ISSUER and SIDECAR_LAB_OIDC_CLIENT_ID go together/,
    );
    expect(() => loadConfig({ SIDECAR_LAB_OIDC_CLIENT_ID: 'lab' })).toThrow(/go together/);
    expect(() => loadConfig({ SIDECAR_LAB_OIDC_ISSUER: 'not a url', SIDECAR_LAB_OIDC_CLIENT_ID: 'lab' })).toThrow(
      /SIDECAR_LAB_OIDC_ISSUER/,
    );
  });
});
