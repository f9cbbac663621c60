// npm start: the local cluster when none is configured, the built site, then the server on one port.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { configUsage, flagsToEnv, wantsHelp } from '../src/config.ts';

// Usage and flag mistakes are answered before anything slow (the cluster, the site build) starts.
const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  console.log(configUsage());
  process.exit(0);
}
let flags: Record<string, string>;
try {
  flags = flagsToEnv(argv);
} catch (error) {
  console.error(`sidecar-lab: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}

const provider = flags.SIDECAR_LAB_CLUSTER ?? process.env.SIDECAR_LAB_CLUSTER ?? 'local';
if (provider === 'local') {
  execFileSync('bash', ['sandbox-server/cluster/local/cluster.sh', 'up'], { stdio: 'inherit' });
}
const siteDir = process.env.SIDECAR_LAB_SITE_DIR ?? 'dist/site';
if (!existsSync(`${siteDir}/index.html`) || process.env.SIDECAR_LAB_REBUILD_SITE === 'true') {
  console.error('[start] building the site');
  // No telemetry notice in a learner's first run (and nothing sent from an offline machine).
  execFileSync('npx', ['astro', 'build'], { stdio: 'inherit', env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' } });
}
await import('../src/main.ts');
