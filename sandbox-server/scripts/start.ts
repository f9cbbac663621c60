// npm start: a cluster (the one configured, or the one this machine can run — see provider.ts), the built site, then
// the server on one port.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { configUsage, flagsToEnv, wantsHelp } from '../src/config.ts';
import { chooseProvider, detectMachine } from './provider.ts';

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

const choice = chooseProvider(flags.SIDECAR_LAB_CLUSTER ?? process.env.SIDECAR_LAB_CLUSTER, detectMachine());
if (choice.provider === 'none') {
  console.error(`sidecar-lab: ${choice.message}`);
  process.exit(1);
}
console.error(`[start] cluster: ${choice.provider} (${choice.why})`);
process.env.SIDECAR_LAB_CLUSTER = choice.provider;
if (choice.provider === 'local') {
  execFileSync('bash', ['sandbox-server/cluster/local/cluster.sh', 'up'], { stdio: 'inherit' });
} else if (choice.provider === 'kind') {
  execFileSync('bash', ['sandbox-server/cluster/kind/create.sh'], { stdio: 'inherit' });
}
const siteDir = process.env.SIDECAR_LAB_SITE_DIR ?? 'dist/site';
if (!existsSync(`${siteDir}/index.html`) || process.env.SIDECAR_LAB_REBUILD_SITE === 'true') {
  console.error('[start] building the site');
  // No telemetry notice in a learner's first run (and nothing sent from an offline machine).
  execFileSync('npx', ['astro', 'build'], { stdio: 'inherit', env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' } });
}
await import('../src/main.ts');
