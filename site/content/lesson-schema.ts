// The lesson frontmatter contract: every MDX file in lessons/ is validated against it at build time.
import { z } from 'astro/zod';

/** Exercise ids are kebab-case, as the folders under exercises/ are named. */
export const exerciseId = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'exercise ids are kebab-case, e.g. "first-sidecar"');

export const lessonSchema = z
  .object({
    /** Shown as the page heading and in the lesson list. */
    title: z.string().trim().min(1, 'a lesson needs a title'),
    /** Position in the course; lessons are listed by it, so two lessons may not share one. */
    order: z.number().int().positive(),
    /** The section of the seed document this lesson teaches, e.g. "5.1 Logging Sidecar", or "beyond" for extra lessons. */
    seedSection: z.string().trim().min(1),
    /** What the learner can do after the lesson; shown at the top of the page. */
    objectives: z.array(z.string().trim().min(1)).min(1, 'list at least one objective'),
    /** Estimated time in minutes. */
    minutes: z.number().int().min(1).max(120),
    /** Ids of the exercises this lesson offers (folders under exercises/). */
    exercises: z.array(exerciseId).default([]),
  })
  .strict();

export type LessonFrontmatter = z.infer<typeof lessonSchema>;
