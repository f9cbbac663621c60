// The workshop wire contract: request bodies, the instructor's grid view, and export rows (zod only).
import { z } from 'zod';
import { sandboxStatus } from './schemas.ts';

/** "2h", "90m", "1h30m" or a bare number of minutes → minutes. */
export function parseDurationMinutes(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,5}$/.test(trimmed)) return Number(trimmed);
  const match = /^(?:(\d{1,3})\s*h)?\s*(?:(\d{1,4})\s*m(?:in)?)?$/i.exec(trimmed);
  if (!match || (match[1] === undefined && match[2] === undefined)) return undefined;
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

/** A duration as text ("2h", "90m", "1h30m") or minutes; always minutes after parsing. */
export const durationMinutes = z
  .union([z.number().int(), z.string().max(20)])
  .transform((value, ctx) => {
    const minutes = typeof value === 'number' ? value : parseDurationMinutes(value);
    if (minutes === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a duration such as "2h", "90m" or "1h30m"' });
      return z.NEVER;
    }
    return minutes;
  })
  .pipe(
    z
      .number()
      .int()
      .min(5, 'at least 5 minutes')
      .max(7 * 24 * 60, 'at most a week'),
  );

/** Control and invisible formatting characters (bidi overrides, zero-width) could disguise a name on the grid. */
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/** What learners call themselves: shown to the instructor only, never to other learners. */
export const displayName = z
  .string()
  .transform((s) => s.trim().replace(/\s+/g, ' '))
  .pipe(
    z
      .string()
      .min(1, 'give a display name')
      .max(40, 'at most 40 characters')
      .refine((s) => !INVISIBLE.test(s), 'only visible characters, please'),
  );

export const workshopName = z
  .string()
  .transform((s) => s.trim().replace(/\s+/g, ' '))
  .pipe(
    z
      .string()
      .min(1, 'give the workshop a name')
      .max(80, 'at most 80 characters')
      .refine((s) => !INVISIBLE.test(s), 'only visible characters, please'),
  );

const exerciseId = z.string().regex(/^[a-z0-9-]{1,63}$/, 'an exercise id such as "first-sidecar"');

export const createWorkshopBody = z
  .object({
    name: workshopName,
    /** Learners at most; each gets one sandbox. */
    capacity: z.coerce.number().int().min(1).max(500),
    duration: durationMinutes,
    /** Columns of the grid, in order; every exercise when left out. */
    exercises: z.array(exerciseId).max(50).optional(),
  })
  .strict();

export const joinWorkshopBody = z
  .object({
    /** The join code as typed; dashes, spaces and case do not matter. */
    code: z.string().max(40),
    name: displayName,
  })
  .strict();

export const extendWorkshopBody = z
  .object({
    minutes: z.number().int().min(1).max(240).default(30),
    /** One learner's id; the whole workshop when left out. */
    learner: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
  })
  .strict();

export const workshopStatus = z.enum(['running', 'over', 'ended']);
export type WorkshopStatus = z.infer<typeof workshopStatus>;

/** One cell of the grid: a learner's attempts at one exercise. */
export const gridCell = z.object({
  attempts: z.number().int(),
  passed: z.boolean(),
  /** Verdict of the latest check, if any. */
  last: z.enum(['pass', 'fail', 'error']).optional(),
  firstPassAt: z.string().optional(),
});
export type GridCell = z.infer<typeof gridCell>;

export const learnerRow = z.object({
  id: z.string(),
  name: z.string(),
  joinedAt: z.string(),
  /** When this learner's sandbox goes away: the workshop's end, or later after a personal extension. */
  deadline: z.string(),
  sandbox: z.object({ id: z.string(), namespace: z.string(), status: sandboxStatus, expiresAt: z.string() }).nullable(),
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
  learners: z.array(z.object({ id: z.string(), name: z.string() })).min(1),
});
export type StuckCheck = z.infer<typeof stuckCheck>;

/** Everything the instructor's dashboard shows; pushed again on every change. */
export const workshopState = z.object({
  id: z.string(),
  name: z.string(),
  code: z.string(),
  status: workshopStatus,
  capacity: z.number().int(),
  createdAt: z.string(),
  endsAt: z.string(),
  endedAt: z.string().optional(),
  /** The server's clock, so the page can count down without trusting the browser's. */
  now: z.string(),
  exercises: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      passed: z.number().int(),
      /** Nobody fails a check of it right now: null. */
      stuck: stuckCheck.nullable(),
    }),
  ),
  learners: z.array(learnerRow),
});
export type WorkshopState = z.infer<typeof workshopState>;

/** What a learner learns about their own workshop: no other learner, no code, no token. */
export const learnerWorkshopView = z.object({
  workshop: z.object({ name: z.string(), status: workshopStatus, endsAt: z.string(), exercises: z.array(z.string()) }),
  learner: z.object({ name: z.string(), deadline: z.string() }),
  sandbox: z.object({ id: z.string(), namespace: z.string(), status: sandboxStatus, expiresAt: z.string() }).optional(),
});
export type LearnerWorkshopView = z.infer<typeof learnerWorkshopView>;

/** One line of the export: a learner's result on one exercise. */
export const resultRow = z.object({
  learner: z.string(),
  exercise: z.string(),
  passed: z.boolean(),
  attempts: z.number().int(),
  firstPassAt: z.string().nullable(),
});
export type ResultRow = z.infer<typeof resultRow>;
