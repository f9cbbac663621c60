import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Repository } from './repository.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Repository', () => {
  it('keeps progress and check history per session, across reopening the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slab-repo-'));
    dirs.push(dir);
    const file = join(dir, 'lab.db');
    const first = new Repository(file);
    first.markLessonRead('s1', 'introduction');
    first.markLessonRead('s1', 'introduction');
    first.recordCheck({ session: 's1', sandbox: 'a', exercise: 'first-sidecar', status: 'fail', report: '{}' });
    first.recordCheck({ session: 's1', sandbox: 'a', exercise: 'first-sidecar', status: 'pass', report: '{"ok":1}' });
    first.recordCheck({ session: 's2', sandbox: 'b', exercise: 'logging-sidecar', status: 'pass', report: '{}' });
    first.close();

    const again = new Repository(file);
    expect(again.progress('s1')).toEqual({ lessonsRead: ['introduction'], exercisesPassed: ['first-sidecar'] });
    expect(again.progress('nobody')).toEqual({ lessonsRead: [], exercisesPassed: [] });
    const history = again.checkHistory('s1', 'first-sidecar');
    expect(history.map((h) => h.status)).toEqual(['pass', 'fail']);
    expect(history[0]?.report).toBe('{"ok":1}');
    again.close();
  });
});
