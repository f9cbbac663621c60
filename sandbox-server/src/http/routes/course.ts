// The course's own API: an exercise's summary, and the lessons read and exercises passed per session. Chained so their
// types reach the site's typed client (AppType).
import { Hono } from 'hono';
import { z } from 'zod';
import { getExercise, summarize } from '../../../../exercises/registry.ts';
import type { Repository } from '../../store/repository.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { valid } from '../validate.ts';
import { exerciseId } from './sandboxes.ts';

const exerciseParam = z.object({ exerciseId });
const lessonParam = z.object({
  lesson: z.string().regex(/^[a-z0-9-]{1,80}$/, 'a lesson id such as "logging-sidecar"'),
});

/** The course routes, to be mounted at /api. */
export function courseRoutes(repo: Repository) {
  return new Hono<AppEnv>()
    .get('/exercises/:exerciseId', valid('param', exerciseParam), (c) => {
      const exercise = getExercise(c.req.valid('param').exerciseId);
      if (!exercise) throw new ApiError('not_found', 'no such exercise');
      return c.json(summarize(exercise), 200);
    })
    .get('/progress', async (c) => c.json(await repo.progress(c.get('session')), 200))
    .post('/progress/lessons/:lesson', valid('param', lessonParam), async (c) => {
      await repo.markLessonRead(c.get('session'), c.req.valid('param').lesson);
      return c.body(null, 204);
    });
}
