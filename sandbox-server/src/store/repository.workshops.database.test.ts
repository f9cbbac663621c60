import { describe, expect, it } from 'vitest';
import { storeBackends, storesOn } from '../../../tests/support/store-backends.ts';
import type { WorkshopRecord } from './repository.ts';

function workshop(over: Partial<WorkshopRecord> = {}): WorkshopRecord {
  return {
    id: '0123456789abcdef',
    name: 'Sidecars 101',
    code: 'ABCD0123WXYZ',
    tokenHash: 'f'.repeat(64),
    capacity: 2,
    exercises: ['first-sidecar', 'logging-sidecar'],
    createdAt: '2026-01-01T10:00:00.000Z',
    endsAt: '2026-01-01T12:00:00.000Z',
    ...over,
  };
}

const learner = (id: string, session: string, joinedAt = '2026-01-01T10:01:00.000Z') => ({
  id,
  workshop: '0123456789abcdef',
  session,
  name: `name-${id}`,
  joinedAt,
});

describe.each(storeBackends)('Repository on $name: workshops', (backend) => {
  const stores = storesOn(backend);

  it('keeps workshops, learners and their results across reopening the store', async () => {
    const { repo, reopen } = await stores.open();
    await repo.createWorkshop(workshop());
    expect((await repo.workshopByCode('ABCD0123WXYZ'))?.id).toBe('0123456789abcdef');

    const first = await repo.joinWorkshop(learner('aaaaaaaaaaaaaaaa', 's1'), 2);
    expect(first).toMatchObject({ joined: true });
    const again = await repo.joinWorkshop(learner('bbbbbbbbbbbbbbbb', 's1'), 2);
    expect(again).toMatchObject({ joined: false, learner: { id: 'aaaaaaaaaaaaaaaa' } });
    expect(await repo.joinWorkshop(learner('cccccccccccccccc', 's2', '2026-01-01T10:02:00.000Z'), 2)).toMatchObject({
      joined: true,
    });
    expect(await repo.joinWorkshop(learner('dddddddddddddddd', 's3'), 2)).toBe('full');
    expect((await repo.learners('0123456789abcdef')).map((l) => l.id)).toEqual([
      'aaaaaaaaaaaaaaaa',
      'cccccccccccccccc',
    ]);

    await repo.updateLearner('aaaaaaaaaaaaaaaa', { sandbox: '1111111111111111', until: '2026-01-01T12:30:00.000Z' });
    await repo.updateWorkshop('0123456789abcdef', { endsAt: '2026-01-01T12:15:00.000Z' });
    await repo.close();

    const reopened = await reopen();
    expect(await reopened.workshop('0123456789abcdef')).toMatchObject({
      endsAt: '2026-01-01T12:15:00.000Z',
      exercises: ['first-sidecar', 'logging-sidecar'],
    });
    expect(await reopened.learner('0123456789abcdef', 'aaaaaaaaaaaaaaaa')).toMatchObject({
      sandbox: '1111111111111111',
      until: '2026-01-01T12:30:00.000Z',
    });
    expect((await reopened.memberships('s1')).map((m) => [m.workshop.id, m.learner.name])).toEqual([
      ['0123456789abcdef', 'name-aaaaaaaaaaaaaaaa'],
    ]);
    expect((await reopened.workshops())[0]).toMatchObject({ id: '0123456789abcdef', learners: 2 });
    await reopened.close();
  });

  it('counts only checks made between joining and the end of the workshop', async () => {
    const { repo } = await stores.open();
    await repo.createWorkshop(workshop({ capacity: 5 }));
    // Joined "now", so the fixed-time rows below are before it; the live ones are after.
    const joinedAt = new Date(Date.now() - 1000).toISOString();
    await repo.joinWorkshop(learner('aaaaaaaaaaaaaaaa', 's1', joinedAt), 5);
    await repo.joinWorkshop(learner('bbbbbbbbbbbbbbbb', 's2', joinedAt), 5);
    const record = (session: string, exercise: string, status: 'pass' | 'fail' | 'error') =>
      repo.recordCheck({ session, sandbox: 'x', exercise, status, report: '{}' });
    await record('s1', 'first-sidecar', 'fail');
    const pass = await record('s1', 'first-sidecar', 'pass');
    await record('s1', 'first-sidecar', 'fail');
    await record('s2', 'logging-sidecar', 'error');
    await record('someone-else', 'first-sidecar', 'pass');

    const tallies = await repo.workshopTallies('0123456789abcdef');
    expect(tallies).toHaveLength(2);
    expect(tallies.find((t) => t.learner === 'aaaaaaaaaaaaaaaa')).toEqual({
      learner: 'aaaaaaaaaaaaaaaa',
      exercise: 'first-sidecar',
      attempts: 3,
      firstPassAt: pass.createdAt,
      last: 'fail',
      lastReport: '{}',
    });
    expect(tallies.find((t) => t.learner === 'bbbbbbbbbbbbbbbb')).toMatchObject({ attempts: 1, last: 'error' });
    expect(tallies.find((t) => t.learner === 'bbbbbbbbbbbbbbbb')?.firstPassAt).toBeUndefined();

    // Automatic re-checks change the verdict (and may pass) but are not attempts.
    const auto = (session: string, exercise: string, status: 'pass' | 'fail' | 'error') =>
      repo.recordCheck({ session, sandbox: 'x', exercise, status, report: `{"auto":"${status}"}`, trigger: 'auto' });
    await auto('s1', 'first-sidecar', 'fail');
    await auto('s2', 'logging-sidecar', 'fail');
    const autoPass = await auto('s2', 'logging-sidecar', 'pass');
    await auto('s2', 'first-sidecar', 'fail');
    const after = await repo.workshopTallies('0123456789abcdef');
    expect(after.find((t) => t.learner === 'aaaaaaaaaaaaaaaa')).toMatchObject({
      attempts: 3,
      last: 'fail',
      lastReport: '{"auto":"fail"}',
    });
    expect(after.find((t) => t.learner === 'bbbbbbbbbbbbbbbb' && t.exercise === 'logging-sidecar')).toMatchObject({
      attempts: 1,
      last: 'pass',
      firstPassAt: autoPass.createdAt,
    });
    expect(after.find((t) => t.learner === 'bbbbbbbbbbbbbbbb' && t.exercise === 'first-sidecar')).toMatchObject({
      attempts: 0,
      last: 'fail',
    });
    expect((await repo.checkHistory('s2', 'logging-sidecar')).map((r) => r.trigger)).toEqual([
      'auto',
      'auto',
      'manual',
    ]);

    // Once it has ended, further checks are the learner's own business, not the workshop's.
    await repo.updateWorkshop('0123456789abcdef', { endedAt: new Date().toISOString() });
    await new Promise((r) => setTimeout(r, 5));
    await record('s2', 'logging-sidecar', 'pass');
    expect(await repo.workshopTallies('0123456789abcdef')).toEqual(after);
    await repo.close();
  });

  it('gives the last place to one of several learners joining at once through different store instances', async () => {
    const { repo, reopen } = await stores.open();
    const other = await reopen();
    await repo.createWorkshop(workshop({ capacity: 3 }));
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => c.repeat(16));
    const results = await Promise.all(
      ids.map((id, i) => (i % 2 ? other : repo).joinWorkshop(learner(id, `s-${id}`), 3)),
    );
    expect(results.filter((r) => r === 'full')).toHaveLength(3);
    expect(await repo.learners('0123456789abcdef')).toHaveLength(3);
    // The same session racing itself keeps one row.
    const twice = await Promise.all([
      repo.joinWorkshop(learner('1111111111111111', 's-a'.padEnd(16, 'a')), 3),
      other.joinWorkshop(learner('2222222222222222', 's-a'.padEnd(16, 'a')), 3),
    ]);
    expect(twice.every((r) => r === 'full' || r.joined === false)).toBe(true);
  });
});
