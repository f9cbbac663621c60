// npm start: the local cluster when none is configured, the built site, then the server on one port.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const provider = process.env.SIDECAR_LAB_CLUSTER ?? 'local';
if (provider === 'local') {
  execFileSync('bash', ['sandbox-server/cluster/local/cluster.sh', 'up'], { stdio: 'inherit' });
}
const siteDir = process.env.SIDECAR_LAB_SITE_DIR ?? 'dist/site';
if (!existsSync(`${siteDir}/index.html`) || process.env.SIDECAR_LAB_REBUILD_SITE === 'true') {
  console.error('[start] building the site');
  execFileSync('npx', ['astro', 'build'], { stdio: 'inherit' });
}
await import('../src/main.ts');
