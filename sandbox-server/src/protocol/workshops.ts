// The workshop wire contract's request bodies (zod); what the server sends back is in workshop-state.ts.
import { z } from 'zod';

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
