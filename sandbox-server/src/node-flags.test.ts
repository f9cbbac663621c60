// Every way users start the server passes the same Node.js flags (the tests and benchmarks import the list itself).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from './node-flags.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('SERVER_NODE_FLAGS', () => {
  it('are given by `npm start` (and so `./lab start`) before its script', () => {
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    expect(scripts.start).toBe(`node ${SERVER_NODE_FLAGS.join(' ')} sandbox-server/scripts/start.ts`);
  });

  it("are given by the container image's command", () => {
    const cmd = /--cmd '(\["node",[^']*\])'/.exec(read('sandbox-server/cluster/local/images.sh'))?.[1];
    expect(cmd && JSON.parse(cmd)).toEqual(['node', ...SERVER_NODE_FLAGS, 'sandbox-server/src/main.ts']);
  });
});
