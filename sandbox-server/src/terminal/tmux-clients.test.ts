// The shell the bridge runs to attach: it ends only the clients of connections this process does not hold.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachCommand, LiveClients } from './tmux-clients.ts';

describe('attachCommand', () => {
  it('ends the clients of connections not live in this process, and keeps those that are', () => {
    // Run the orphan sweep for real in a scratch folder: the pid files point at sleeping processes of our own.
    const dir = mkdtempSync(join(tmpdir(), 'tmux-clients-'));
    const [, , script] = attachCommand('self', ['self', 'alive']);
    const sweep = script!.replaceAll('/tmp/.sidecar-lab-client-', `${dir}/c-`).replace(/echo \$\$ >.*$/, 'true');
    const sleeper = () => Number(execFileSync('sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!']).toString());
    const orphan = sleeper();
    const alive = sleeper();
    writeFileSync(join(dir, 'c-orphan.pid'), String(orphan));
    writeFileSync(join(dir, 'c-alive.pid'), String(alive));
    execFileSync('sh', ['-c', sweep]);
    expect(readdirSync(dir).sort()).toEqual(['c-alive.pid']);
    const running = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(running(alive)).toBe(true);
    process.kill(alive, 'SIGKILL');
  });
});

describe('LiveClients', () => {
  it('lists every connection attached for a sandbox, the new one included', () => {
    const live = new LiveClients();
    expect(live.add('s', 'a')).toEqual(['a']);
    expect(live.add('s', 'b')).toEqual(['a', 'b']);
    expect(live.add('t', 'c')).toEqual(['c']);
    live.remove('s', 'a');
    expect(live.add('s', 'd')).toEqual(['b', 'd']);
  });
});
