// Turns stored learners and check history into the grid and the export rows; CSV written here (pure, no I/O).
import type { GridCell, ResultRow } from '../protocol/workshop-state.ts';

/** A learner's aggregated checks of one exercise, as the repository returns them. */
export interface ExerciseTally {
  learner: string;
  exercise: string;
  attempts: number;
  firstPassAt?: string;
  last: 'pass' | 'fail' | 'error';
}

export interface NamedLearner {
  id: string;
  name: string;
}

/**
 * Display names are free text and need not be unique; the instructor still has to tell two "Sam"s apart, so later
 * ones get " (2)", " (3)" in join order.
 */
export function distinctNames<T extends NamedLearner>(learners: readonly T[]): Map<string, string> {
  const seen = new Map<string, number>();
  const names = new Map<string, string>();
  for (const learner of learners) {
    const key = learner.name.toLowerCase();
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    names.set(learner.id, count === 1 ? learner.name : `${learner.name} (${count})`);
  }
  return names;
}

/** The grid cells of one learner: every exercise of the workshop, tried or not. */
export function cellsFor(
  learnerId: string,
  exercises: readonly string[],
  tallies: readonly ExerciseTally[],
): Record<string, GridCell> {
  const cells: Record<string, GridCell> = {};
  for (const exercise of exercises) cells[exercise] = { attempts: 0, passed: false };
  for (const tally of tallies) {
    if (tally.learner !== learnerId || !(tally.exercise in cells)) continue;
    cells[tally.exercise] = {
      attempts: tally.attempts,
      passed: tally.firstPassAt !== undefined,
      last: tally.last,
      ...(tally.firstPassAt ? { firstPassAt: tally.firstPassAt } : {}),
    };
  }
  return cells;
}

/** One row per learner and exercise, in join order then exercise order. */
export function resultRows(
  learners: readonly NamedLearner[],
  exercises: readonly string[],
  tallies: readonly ExerciseTally[],
): ResultRow[] {
  const names = distinctNames(learners);
  return learners.flatMap((learner) => {
    const cells = cellsFor(learner.id, exercises, tallies);
    return exercises.map((exercise) => {
      const cell = cells[exercise]!;
      return {
        learner: names.get(learner.id) ?? learner.name,
        exercise,
        passed: cell.passed,
        attempts: cell.attempts,
        firstPassAt: cell.firstPassAt ?? null,
      };
    });
  });
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A field that starts like a formula
 * (=, +, -, @, tab, CR) gets a leading apostrophe, because a learner's display name must not run as a formula in the
 * instructor's spreadsheet.
 */
export function csvField(value: string | number | boolean | null): string {
  let text = value === null ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const CSV_COLUMNS = ['learner', 'exercise', 'passed', 'attempts', 'first_pass_at'] as const;

/** The export as CSV: a header line, then one line per learner and exercise, CRLF line ends as RFC 4180 has them. */
export function toCsv(rows: readonly ResultRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      [row.learner, row.exercise, row.passed, row.attempts, row.firstPassAt].map((v) => csvField(v)).join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
