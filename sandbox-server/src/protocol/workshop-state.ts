// What the server tells about a workshop: the instructor's grid, a learner's view of their own workshop, export rows.
// zod/mini, because the dashboard page parses every pushed state and should load little script for it.
import * as z from 'zod/mini';
import { SANDBOX_STATUSES } from './limits.ts';

export const workshopStatus = z.enum(['running', 'over', 'ended']);
export type WorkshopStatus = z.infer<typeof workshopStatus>;

const count = z.int();

/** One cell of the grid: a learner's attempts at one exercise. */
export const gridCell = z.object({
  attempts: count,
  passed: z.boolean(),
  /** Verdict of the latest check, if any. */
  last: z.optional(z.enum(['pass', 'fail', 'error'])),
  firstPassAt: z.optional(z.string()),
});
export type GridCell = z.infer<typeof gridCell>;

const sandboxView = z.object({
  id: z.string(),
  namespace: z.string(),
  status: z.enum(SANDBOX_STATUSES),
  expiresAt: z.string(),
});

export const learnerRow = z.object({
  id: z.string(),
  name: z.string(),
  joinedAt: z.string(),
  /** When this learner's sandbox goes away: the workshop's end, or later after a personal extension. */
  deadline: z.string(),
  sandbox: z.nullable(sandboxView),
  cells: z.record(z.string(), gridCell),
});
export type LearnerRow = z.infer<typeof learnerRow>;

/**
 * Where the room is stuck in one exercise: the check that most learners fail in their latest verdict (a check only
 * reported failing because an earlier one failed does not count), and who they are, in join order.
 */
export const stuckCheck = z.object({
  check: z.string(),
  title: z.string(),
  learners: z.array(z.object({ id: z.string(), name: z.string() })).check(z.minLength(1)),
});
export type StuckCheck = z.infer<typeof stuckCheck>;

/** Everything the instructor's dashboard shows; pushed again on every change. */
export const workshopState = z.object({
  id: z.string(),
  name: z.string(),
  code: z.string(),
  status: workshopStatus,
  capacity: count,
  createdAt: z.string(),
  endsAt: z.string(),
  endedAt: z.optional(z.string()),
  /** The server's clock, so the page can count down without trusting the browser's. */
  now: z.string(),
  exercises: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      passed: count,
      /** Nobody fails a check of it right now: null. */
      stuck: z.nullable(stuckCheck),
    }),
  ),
  learners: z.array(learnerRow),
});
export type WorkshopState = z.infer<typeof workshopState>;

/** What a learner learns about their own workshop: no other learner, no code, no token. */
export const learnerWorkshopView = z.object({
  workshop: z.object({ name: z.string(), status: workshopStatus, endsAt: z.string(), exercises: z.array(z.string()) }),
  learner: z.object({ name: z.string(), deadline: z.string() }),
  sandbox: z.optional(sandboxView),
});
export type LearnerWorkshopView = z.infer<typeof learnerWorkshopView>;

/** One line of the export: a learner's result on one exercise. */
export const resultRow = z.object({
  learner: z.string(),
  exercise: z.string(),
  passed: z.boolean(),
  attempts: count,
  firstPassAt: z.nullable(z.string()),
});
export type ResultRow = z.infer<typeof resultRow>;
