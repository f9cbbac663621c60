// Server configuration from environment variables and command-line flags, validated once at start-up.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { trustedProxies } from './http/peer.ts';
import { parseOrExplain } from './protocol/explain.ts';

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const minutesFrom = (min: number, max: number) => z.coerce.number().min(min).max(max);
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

/** Every setting, keyed by its environment variable; each flag `--pool-size` maps to SIDECAR_LAB_POOL_SIZE. */
export const configSchema = z.object({
  /** Which cluster to use: the embedded local one, a kind cluster, or whatever KUBECONFIG points at. */
  SIDECAR_LAB_CLUSTER: z.enum(['local', 'kind', 'kubeconfig']).default('local'),
  /** Kubeconfig file for the kind/kubeconfig providers (defaults to KUBECONFIG, then ~/.kube/config). */
  KUBECONFIG: z.string().optional(),
  /** Context inside that kubeconfig. */
  SIDECAR_LAB_CONTEXT: z.string().optional(),
  PORT: intFrom(0, 65535).default(4321),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Signs learner cookies; at least 32 characters. Generated and kept in the data folder when unset. */
  SIDECAR_LAB_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Sandboxes kept ready to claim. */
  SIDECAR_LAB_POOL_SIZE: intFrom(0, 50).default(2),
  /** Names this server's warm pool on the cluster, so several servers (or test runs) on one cluster keep apart. */
  SIDECAR_LAB_INSTANCE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and dashes, at most 63')
    .default('default'),
  /** Where the Lease lives that elects the replica running the warm pool and the reaper (the Pod's own namespace). */
  SIDECAR_LAB_LEASE_NAMESPACE: z.string().min(1).default('sidecar-lab-system'),
  /** A leader that has not renewed its Lease for this long is replaced by another replica. */
  SIDECAR_LAB_LEASE_SECONDS: intFrom(2, 300).default(15),
  /**
   * The idle period: a learner's sandbox ends this many minutes after their last activity (terminal input, an API
   * call, a Check). Decimals allowed (0.5 = 30 s), for tests.
   */
  SIDECAR_LAB_SANDBOX_TTL_MINUTES: minutesFrom(0.1, 24 * 60).default(60),
  /** Longest a sandbox may live from its claim, activity and extensions included, in minutes (decimals allowed). */
  SIDECAR_LAB_MAX_TTL_MINUTES: minutesFrom(0.1, 7 * 24 * 60).default(240),
  /** The page warns this many minutes before a sandbox expires, with an "Extend" button (decimals allowed). */
  SIDECAR_LAB_EXPIRY_WARNING_MINUTES: minutesFrom(0, 24 * 60).default(5),
  /** Largest saved work per learner (home folder compressed, plus manifests), in KiB; larger saves are refused. */
  SIDECAR_LAB_SAVE_MAX_KIB: intFrom(1, 180).default(128),
  /** Days a learner's saved work is kept. */
  SIDECAR_LAB_SAVE_RETENTION_DAYS: intFrom(1, 3650).default(30),
  /** How often the reaper looks for sandboxes whose time is up, in seconds. */
  SIDECAR_LAB_REAPER_INTERVAL_SECONDS: intFrom(1, 3600).default(30),
  /** A sandbox namespace still Terminating this long after deletion is reported (log and metric) as stuck. */
  SIDECAR_LAB_STUCK_TERMINATING_MINUTES: intFrom(0, 24 * 60).default(10),
  /** Live sandboxes at most (claimed and warm together); new learners get 503 beyond it. */
  SIDECAR_LAB_MAX_SANDBOXES: intFrom(1, 1000).default(30),
  /** Sandbox creations one session may make per minute. */
  SIDECAR_LAB_CREATE_RATE_PER_MINUTE: intFrom(1, 1000).default(5),
  /** Terminals (WebSockets) one browser session may hold open at once; more are refused with 429. */
  SIDECAR_LAB_MAX_TERMINALS_PER_SESSION: intFrom(1, 100).default(8),
  /** Image repositories learners may run (Docker Hub short names are expanded). */
  SIDECAR_LAB_ALLOWED_IMAGES: list.default(['busybox', 'nginx']),
  SIDECAR_LAB_TOOLBOX_IMAGE: z.string().min(1).default('docker.io/sidecar-lab/toolbox:v1.35.4'),
  /** Origins allowed to open terminals (WebSocket Origin header); defaults to this server's own. */
  SIDECAR_LAB_ALLOWED_ORIGINS: list.optional(),
  /** Per-sandbox ResourceQuota. */
  SIDECAR_LAB_QUOTA_PODS: intFrom(1, 200).default(20),
  SIDECAR_LAB_QUOTA_CPU: z
    .string()
    .regex(/^\d+(\.\d+)?m?$/, 'a CPU quantity such as 2 or 1500m')
    .default('2'),
  SIDECAR_LAB_QUOTA_MEMORY: z
    .string()
    .regex(/^\d+(Mi|Gi)$/, 'a memory quantity such as 2Gi or 512Mi')
    .default('2Gi'),
  /** Where SQLite and the generated secret live. */
  SIDECAR_LAB_DATA_DIR: z.string().default('.lab/data'),
  /**
   * PostgreSQL instead of SQLite (postgres://user:password@host:5432/db), so several replicas share one store; the
   * SQLite file in the data folder is the default when unset.
   */
  SIDECAR_LAB_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'a PostgreSQL URL such as postgres://user:password@host:5432/sidecar_lab')
    .optional(),
  /** The built site to serve. */
  SIDECAR_LAB_SITE_DIR: z.string().default('dist/site'),
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For names the client, e.g. the ingress controller's range. */
  SIDECAR_LAB_TRUSTED_PROXIES: list.default([]).superRefine((entries, ctx) => {
    try {
      trustedProxies(entries);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
  /** Optional sign-in with an OpenID Connect provider (its issuer URL); learners stay anonymous when unset. */
  SIDECAR_LAB_OIDC_ISSUER: z.url().optional(),
  SIDECAR_LAB_OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** The client's secret; without one the server signs in as a public client (PKCE only). */
  SIDECAR_LAB_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Where browsers reach this server (the OIDC redirect goes to <url>/auth/callback); defaults to its own origin. */
  SIDECAR_LAB_PUBLIC_URL: z.url().optional(),
  /** Set when served over HTTPS so cookies are marked Secure. */
  SIDECAR_LAB_SECURE_COOKIES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  sessionSecret: string;
  allowedOrigins: string[];
  dataDir: string;
}

/** Settings whose variable has no SIDECAR_LAB_ prefix. */
const UNPREFIXED = ['PORT', 'HOST', 'KUBECONFIG', 'LOG_LEVEL'];

/** The environment variable a flag sets: `pool-size` → SIDECAR_LAB_POOL_SIZE, `port` → PORT. */
const envKeyOf = (flag: string) => {
  const key = flag.toUpperCase().replaceAll('-', '_');
  return UNPREFIXED.includes(key) ? key : `SIDECAR_LAB_${key}`;
};

/** The flag that sets an environment variable: SIDECAR_LAB_POOL_SIZE → `--pool-size`. */
const flagOf = (key: string) =>
  `--${key
    .replace(/^SIDECAR_LAB_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;

/**
 * `--pool-size=3` or `--pool-size 3` → { SIDECAR_LAB_POOL_SIZE: '3' }; --port and --host map to PORT and HOST. A flag
 * that sets no known setting is an error naming the flag.
 */
export function flagsToEnv(argv: readonly string[]): Record<string, string> {
  const known = new Set(Object.keys(configSchema.shape));
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`config: unexpected argument "${arg}" (flags look like --pool-size=3)`);
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!known.has(envKeyOf(rawName))) {
      throw new Error(`config: unknown flag --${rawName} (\`npm start -- --help\` lists them)`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`config: flag --${rawName} needs a value`);
    out[envKeyOf(rawName)] = value;
  }
  return out;
}

/** True when the arguments ask for usage only. */
export const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');

/** `npm start -- --help`: every flag, the variable it sets, and its default. */
export function configUsage(): string {
  const rows = Object.entries(configSchema.shape).map(([key, schema]) => {
    const parsed = schema.safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? ` (default ${JSON.stringify(parsed.data)})` : '';
    return `  ${flagOf(key).padEnd(32)} ${key}${fallback}`;
  });
  return [
    'usage: npm start [-- --flag=value ...]',
    '',
    'Runs the course: the local cluster when none is configured, the built site, and the sandbox server.',
    "Every setting is an environment variable or the same as a flag; the README's Configuration table says what each means.",
    '',
    ...rows,
    '  --help                           this text, and nothing else',
  ].join('\n');
}

/** Reads, validates and completes the configuration; a bad value throws a message naming its key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const known = new Set(Object.keys(configSchema.shape));
  const flags = flagsToEnv(argv);
  const input = Object.fromEntries(
    [...known].map((k) => [k, flags[k] ?? env[k]]).filter(([, v]) => v !== undefined && v !== ''),
  );
  const raw = parseOrExplain(configSchema, input, 'config');
  if (Boolean(raw.SIDECAR_LAB_OIDC_ISSUER) !== Boolean(raw.SIDECAR_LAB_OIDC_CLIENT_ID)) {
    throw new Error('config: SIDECAR_LAB_OIDC_ISSUER and SIDECAR_LAB_OIDC_CLIENT_ID go together; set both or neither');
  }
  const dataDir = resolve(raw.SIDECAR_LAB_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  return {
    ...raw,
    dataDir,
    sessionSecret: raw.SIDECAR_LAB_SESSION_SECRET ?? persistentSecret(dataDir),
    allowedOrigins: raw.SIDECAR_LAB_ALLOWED_ORIGINS ?? [`http://localhost:${raw.PORT}`, `http://127.0.0.1:${raw.PORT}`],
  };
}

/** A generated secret kept on disk, so a restarted server still recognises its learners' cookies. */
function persistentSecret(dataDir: string): string {
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
