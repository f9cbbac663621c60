// How the dashboard words a cell and a countdown: every colour has a mark and words of its own.
import { describe, expect, it } from 'vitest';
import { describeCell, timeLeft, tries } from './dashboard-grid.ts';

describe('the dashboard grid', () => {
  it('gives each state of a cell a mark that says it without the colour', () => {
    expect(describeCell(undefined)).toEqual({ kind: 'none', mark: '–' });
    expect(describeCell({ attempts: 0, passed: false })).toEqual({ kind: 'none', mark: '–' });
    expect(describeCell({ attempts: 2, passed: false, last: 'fail' })).toEqual({ kind: 'fail', mark: '✗ Not yet' });
    expect(describeCell({ attempts: 1, passed: false, last: 'error' })).toEqual({ kind: 'fail', mark: '! Undecided' });
    // A pass stays a pass when a later check fails: the grid shows who got there.
    expect(describeCell({ attempts: 3, passed: true, last: 'fail' })).toEqual({ kind: 'pass', mark: '✓ Passed' });
  });

  it('counts down in minutes, then hours and minutes, and says when time is up', () => {
    expect(timeLeft(0)).toBe('time is up');
    expect(timeLeft(-5000)).toBe('time is up');
    expect(timeLeft(1)).toBe('1 min');
    expect(timeLeft(59 * 60_000)).toBe('59 min');
    expect(timeLeft(60 * 60_000)).toBe('1 h 00 min');
    expect(timeLeft(125 * 60_000 - 1)).toBe('2 h 05 min');
    expect([tries(1), tries(2)]).toEqual(['1 try', '2 tries']);
  });
});
