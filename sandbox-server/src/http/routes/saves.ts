// The learner's saved work: "Save and stop" for their sandbox, and their save to read, download or delete.
import { type Context, Hono } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseOrExplain } from '../../protocol/explain.ts';
import { ownerHash, type Sandboxes } from '../../sandboxes/sandboxes.ts';
import { SaveError, type Saves } from '../../saves/saves.ts';
import { ApiError } from '../errors.ts';
import { jsonBody } from '../validate.ts';

type Env = { Variables: { session: string; requestId: string } };

const idParam = z.object({ id: z.string().max(64) });
const saveBody = z
  .object({
    /** Delete the sandbox once its work is saved ("Save and stop"). */
    stop: z.boolean().default(false),
  })
  .strict();

const CODES = {
  too_large: 'payload_too_large',
  tampered: 'conflict',
  not_found: 'not_found',
  failed: 'conflict',
} as const;

/** A SaveError as the API's error shape. */
export function asApiError(error: unknown): unknown {
  return error instanceof SaveError ? new ApiError(CODES[error.code], error.message) : error;
}

export function saveRoutes(deps: { saves: Saves | undefined; sandboxes: Sandboxes; log: Logger }) {
  const { sandboxes } = deps;
  const owner = (c: Context<Env>) => ownerHash(c.get('session'));
  /** The saves, or a 404 that says this server keeps none (a server built without them, in tests). */
  const saves = (): Saves => {
    if (!deps.saves) throw new ApiError('not_found', 'this server keeps no saved work');
    return deps.saves;
  };

  /** The learner's save read through `read`; a missing one is 404, a changed one 409. */
  async function mine<T>(c: Context<Env>, read: (owner: string) => Promise<T | undefined>): Promise<T> {
    let value: T | undefined;
    try {
      value = await read(owner(c));
    } catch (error) {
      throw asApiError(error);
    }
    if (value === undefined) throw new ApiError('not_found', 'you have no saved work');
    return value;
  }

  // One chain, so the site's typed client (AppType) knows these routes and their answers.
  return new Hono<Env>()
    .post('/api/sandboxes/:id/save', jsonBody(saveBody), async (c) => {
      const body = c.req.valid('json');
      const { id } = parseOrExplain(idParam, c.req.param(), 'path');
      const store = saves();
      const sandbox = await sandboxes.get(id);
      if (!sandbox || sandbox.owner !== owner(c)) throw new ApiError('not_found', 'no such sandbox');
      if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
      try {
        const summary = await store.save(sandbox, body.stop ? 'save-and-stop' : 'saved');
        if (body.stop) await sandboxes.delete(sandbox.id);
        return c.json(summary, 201);
      } catch (error) {
        throw asApiError(error);
      }
    })
    .get('/api/saves/mine', async (c) => c.json(await mine(c, (o) => saves().summary(o)), 200))
    .get('/api/saves/mine.tar.gz', async (c) =>
      c.body(new Uint8Array(await mine(c, (o) => saves().download(o))), 200, {
        'Content-Type': 'application/gzip',
        'Content-Disposition': 'attachment; filename="sidecar-lab-save.tar.gz"',
      }),
    )
    .delete('/api/saves/mine', async (c) => {
      if (!(await saves().delete(owner(c)))) throw new ApiError('not_found', 'you have no saved work');
      return c.body(null, 204);
    });
}
