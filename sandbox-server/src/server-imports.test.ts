// The server must not load @kubernetes/client-node at runtime: importing it alone costs ~87 MiB of resident memory.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs in a fresh Node: records every module that importing the server (everything main.ts starts) resolves.
const probe = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    loaded.push(result.url);
    return result;
  },
});
await import(process.argv[1]);
process.stdout.write(JSON.stringify(loaded));
`;

describe('the server at runtime', () => {
  it('does not load @kubernetes/client-node (only its types are used)', () => {
    const server = new URL('./server.ts', import.meta.url).href;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', probe, server], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
      timeout: 60_000,
    });
    const loaded = JSON.parse(output) as string[];
    expect(loaded.some((url) => url.endsWith('/cluster/kube.ts'))).toBe(true); // the probe saw the cluster code
    expect(loaded.filter((url) => url.includes('@kubernetes/client-node'))).toEqual([]);
  }, 90_000); // a fresh Node loading the whole server: seconds on a loaded 2-core machine
});
