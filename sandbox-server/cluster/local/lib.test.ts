// The local cluster's process bookkeeping (lib.sh), run by real bash with real processes in a scratch state directory.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const state = mkdtempSync(join(tmpdir(), 'slab-lib-'));
const LIB = 'sandbox-server/cluster/local/lib.sh';

/** Runs `script` in bash with lib.sh sourced against the scratch state; returns its exit code and output. */
function libBash(script: string): { code: number; stdout: string } {
  try {
    const stdout = execFileSync('bash', ['-c', `source ${LIB}; ${script}`], {
      env: { ...process.env, SIDECAR_LAB_STATE: state },
      encoding: 'utf8',
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { status: number; stdout: string };
    return { code: failed.status, stdout: failed.stdout };
  }
}

const stranger = spawn('sleep', ['300'], { stdio: 'ignore' });

afterAll(() => {
  libBash('stop_bg demo-component 1');
  stranger.kill();
});

describe('pid_of', () => {
  it('knows a component started by start_bg, and not a live process that took its number after a reboot', () => {
    expect(libBash('start_bg demo-component sleep 300').code).toBe(0);
    const started = libBash('pid_of demo-component');
    expect(started.code).toBe(0);
    expect(Number(started.stdout.trim())).toBeGreaterThan(0);

    // The same file naming someone else's live process, as after a reboot: not ours, so start_bg would start it again.
    writeFileSync(join(state, 'pids', 'other-component.pid'), `${stranger.pid}\n`);
    expect(libBash('pid_of other-component')).toEqual({ code: 1, stdout: '' });
  });
});
