import { describe, expect, it } from 'vitest';
import { cellsFor, csvField, distinctNames, type ExerciseTally, resultRows, toCsv } from './results.ts';

const learners = [
  { id: 'a', name: 'Ada' },
  { id: 'b', name: 'Sam' },
  { id: 'c', name: 'sam' },
];
const tallies: ExerciseTally[] = [
  { learner: 'a', exercise: 'first-sidecar', attempts: 2, firstPassAt: '2026-01-01T10:05:00.000Z', last: 'pass' },
  { learner: 'b', exercise: 'first-sidecar', attempts: 3, last: 'fail' },
  {
    learner: 'b',
    exercise: 'not-in-this-workshop',
    attempts: 1,
    last: 'pass',
    firstPassAt: '2026-01-01T10:00:00.000Z',
  },
];

describe('the grid', () => {
  it('has a cell for every exercise of the workshop, tried or not', () => {
    expect(cellsFor('a', ['first-sidecar', 'logging-sidecar'], tallies)).toEqual({
      'first-sidecar': { attempts: 2, passed: true, last: 'pass', firstPassAt: '2026-01-01T10:05:00.000Z' },
      'logging-sidecar': { attempts: 0, passed: false },
    });
    expect(cellsFor('b', ['first-sidecar'], tallies)).toEqual({
      'first-sidecar': { attempts: 3, passed: false, last: 'fail' },
    });
  });

  it('tells learners with the same display name apart', () => {
    expect([...distinctNames(learners).values()]).toEqual(['Ada', 'Sam', 'sam (2)']);
  });
});

describe('the export', () => {
  it('has one row per learner and exercise, in join order', () => {
    const rows = resultRows(learners, ['first-sidecar', 'logging-sidecar'], tallies);
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual({
      learner: 'Ada',
      exercise: 'first-sidecar',
      passed: true,
      attempts: 2,
      firstPassAt: '2026-01-01T10:05:00.000Z',
    });
    expect(rows[2]).toEqual({
      learner: 'Sam',
      exercise: 'first-sidecar',
      passed: false,
      attempts: 3,
      firstPassAt: null,
    });
    expect(rows[5]?.learner).toBe('sam (2)');
  });

  it('writes RFC 4180 CSV: quotes, commas and line breaks survive a round trip', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(true)).toBe('true');
    expect(csvField(3)).toBe('3');
    expect(csvField(null)).toBe('');
  });

  it('defuses display names that a spreadsheet would run as formulas', () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tx')).toBe("'\tx");
    expect(csvField('Ada = great')).toBe('Ada = great');
  });

  it('has a header, CRLF line ends, and the columns the issue asks for', () => {
    const csv = toCsv(resultRows([{ id: 'a', name: 'Ada, "the first"' }], ['first-sidecar'], tallies));
    expect(csv).toBe(
      'learner,exercise,passed,attempts,first_pass_at\r\n' +
        '"Ada, ""the first""",first-sidecar,true,2,2026-01-01T10:05:00.000Z\r\n',
    );
  });
});
