// The learner's sandbox API under /api/sandboxes: create or reuse, status, delete, extend, files, live changes, exercise
// setup and checks. Routes are chained so their types reach the site's typed client (AppType).
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { stream, streamSSE } from 'hono/streaming';
import { rateLimiter } from 'hono-rate-limiter';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CheckResult, ExerciseReport } from '../../../../exercises/model.ts';
import { getExercise } from '../../../../exercises/registry.ts';
import { apiSchemaSource } from '../../cluster/api-schema.ts';
import { validateManifests } from '../../cluster/dry-run.ts';
import { execCollect } from '../../cluster/exec.ts';
import type { Kube } from '../../cluster/kube.ts';
import { TOOLBOX_CONTAINER, TOOLBOX_POD } from '../../cluster/labels.ts';
import { watchNamespace } from '../../cluster/namespace-watch.ts';
import {
  type CheckStreamLine,
  checkBody,
  createSandboxBody,
  extendSandboxBody,
  readFileQuery,
  validateBody,
  writeFileBody,
} from '../../protocol/schemas.ts';
import type { ActivityRecorder } from '../../sandboxes/activity.ts';
import { type CheckService, UnknownExerciseError } from '../../sandboxes/checks.ts';
import type { WarmPool } from '../../sandboxes/pool.ts';
import { ownerHash, type Sandbox, SandboxError, type Sandboxes } from '../../sandboxes/sandboxes.ts';
import type { Saves } from '../../saves/saves.ts';
import type { RateLimitCounters } from '../../store/repository.ts';
import type { WorkshopService } from '../../workshops/workshops.ts';
import type { AppEnv } from '../env.ts';
import { ApiError, errorJson } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import { clientAddress } from '../peer.ts';
import type { ProbeLimiter } from '../probe-limit.ts';
import { SharedRateLimitStore } from '../shared-rate-limit.ts';
import { jsonBody, valid } from '../validate.ts';

export interface SandboxRouteDeps {
  kube: Kube;
  sandboxes: Sandboxes;
  pool: WarmPool;
  checks: CheckService;
  metrics: Metrics;
  log: Logger;
  maxSandboxes: number;
  createRatePerMinute: number;
  probes: ProbeLimiter;
  /** Where the create limit counts, so replicas on one database share it. */
  repo: RateLimitCounters;
  workshops?: WorkshopService;
  /** Records the learner's activity (files written, exercises set up) so their sandbox stays alive. */
  activity?: ActivityRecorder;
  /** The learner's saved work, restored into their next sandbox. */
  saves?: Saves;
}

const idParam = z.object({ id: z.string().max(64) });
export const exerciseId = z.string().regex(/^[a-z0-9-]{1,63}$/, 'an exercise id such as "logging-sidecar"');
const exerciseParam = idParam.extend({ exerciseId });

/** The caller's own sandbox by id; anyone else's is reported as missing so ids cannot be probed. */
export async function ownSandbox(sandboxes: Pick<Sandboxes, 'get'>, session: string, id: string): Promise<Sandbox> {
  const sandbox = await sandboxes.get(id);
  if (!sandbox || sandbox.owner !== ownerHash(session)) throw new ApiError('not_found', 'no such sandbox');
  return sandbox;
}

/** The sandbox routes, to be mounted at /api/sandboxes. */
export function sandboxRoutes(deps: SandboxRouteDeps) {
  const { sandboxes, log, probes } = deps;

  // Guessing ids: every 404 under a sandbox id is a miss; past the budget, lookups stop before the API server.
  const probeGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
    const session = c.get('session');
    const address = clientAddress(c);
    const wait = await probes.retryAfter(session, address);
    if (wait !== undefined) {
      c.header('Retry-After', String(wait));
      return errorJson(c, 'rate_limited', `too many requests for sandboxes that do not exist; wait ${wait} s`);
    }
    await next();
    if (c.res.status === 404) await probes.miss(session, address);
  };

  const own = (c: Context<AppEnv>, id: string) => ownSandbox(sandboxes, c.get('session'), id);
  // The cluster's field tree is the same for every learner: one fetch for the server's life.
  const apiSchema = apiSchemaSource(deps.kube.rest);

  const createLimiter = rateLimiter<AppEnv>({
    windowMs: 60_000,
    limit: deps.createRatePerMinute,
    standardHeaders: 'draft-7',
    keyGenerator: (c) => c.get('session'),
    store: new SharedRateLimitStore(deps.repo, 'sandbox-create'),
    handler: (c) => errorJson(c, 'rate_limited', 'too many sandboxes requested; wait a minute and try again'),
  });

  /** One sandbox per learner even when two requests race: the second waits for the first and gets the same. */
  const creating = new Map<string, Promise<unknown>>();

  async function createOrReuse(c: Context<AppEnv>, owner: string, exercise: string | undefined) {
    const existing = await sandboxes.findByOwner(owner);
    if (existing && existing.status !== 'expired') return { view: sandboxes.toView(existing), created: false };
    const started = performance.now();
    const live = (await sandboxes.list()).filter((s) => s.owner && s.status !== 'deleting' && s.status !== 'expired');
    if (live.length >= deps.maxSandboxes) {
      throw new SandboxError('capacity', 'all sandboxes are in use right now; try again in a few minutes');
    }
    // A workshop learner who starts over stays in the workshop: its label and end time go on the new sandbox.
    const claim = await deps.workshops?.claimOptions(c.get('session'));
    let sandbox = await sandboxes.claimWarm(owner, claim);
    let source = 'warm';
    if (!sandbox) {
      sandbox = await sandboxes.provision(owner, claim);
      source = 'cold';
    }
    deps.metrics.provisionSeconds.observe({ source }, (performance.now() - started) / 1000);
    deps.pool.refillSoon();
    if (exercise) await deps.checks.setUp(sandbox.namespace, exercise);
    // A learner coming back gets their saved work in the fresh sandbox; a save that cannot be restored is reported,
    // never a reason to fail the sandbox.
    const restore = await deps.saves?.restoreInto(sandbox).catch((error: unknown) => {
      log.warn({ err: error, sandbox: sandbox.id }, 'could not restore a save');
      return { restored: false, message: error instanceof Error ? error.message : String(error) };
    });
    log.info({ sandbox: sandbox.id, source, ms: Math.round(performance.now() - started) }, 'sandbox claimed');
    return { view: { ...sandboxes.toView(sandbox), ...(restore ? { restore } : {}) }, created: true };
  }

  /** Runs `work`, answering 404 for an exercise id that is well formed but unknown. */
  async function forKnownExercise<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof UnknownExerciseError) throw new ApiError('not_found', error.message);
      throw error;
    }
  }

  // A file the page writes or an exercise it sets up, for the learner, is activity and keeps the sandbox alive (a
  // Check counts through the check service; the status and change stream, which the page reads by itself, do not).
  const recordActivity: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    const id = c.req.param('id');
    // Only a success proves the sandbox is the caller's own.
    if (id && c.res.status < 300) deps.activity?.touch(id);
  };

  return (
    new Hono<AppEnv>()
      .use('/:id/*', probeGuard)
      .use('/:id/files', recordActivity)
      .use('/:id/exercises/:exerciseId/setup', recordActivity)
      .use('/:id/validate', recordActivity)
      .post('/', createLimiter, jsonBody(createSandboxBody), async (c) => {
        const body = c.req.valid('json');
        if (body.exercise && !getExercise(body.exercise))
          throw new ApiError('bad_request', `no exercise "${body.exercise}"`);
        const owner = ownerHash(c.get('session'));
        const pending = creating.get(owner);
        if (pending) await pending.catch(() => undefined);
        let release: () => void = () => undefined;
        creating.set(owner, new Promise<void>((resolve) => (release = resolve)));
        try {
          const { view, created } = await createOrReuse(c, owner, body.exercise);
          return created ? c.json(view, 201) : c.json(view, 200);
        } finally {
          creating.delete(owner);
          release();
        }
      })
      .get('/:id', valid('param', idParam), async (c) =>
        c.json(sandboxes.toView(await own(c, c.req.valid('param').id)), 200),
      )
      .delete('/:id', valid('param', idParam), async (c) => {
        const sandbox = await own(c, c.req.valid('param').id);
        await sandboxes.delete(sandbox.id);
        return c.body(null, 204);
      })
      .post('/:id/extend', valid('param', idParam), jsonBody(extendSandboxBody), async (c) => {
        const sandbox = await own(c, c.req.valid('param').id);
        if (sandbox.status === 'expired' || sandbox.status === 'deleting') {
          throw new ApiError('conflict', `the sandbox is ${sandbox.status}; start a new one`);
        }
        return c.json(sandboxes.toView(await sandboxes.extend(sandbox, c.req.valid('json').minutes)), 200);
      })
      .post('/:id/files', valid('param', idParam), jsonBody(writeFileBody), async (c) => {
        const body = c.req.valid('json');
        const sandbox = await own(c, c.req.valid('param').id);
        if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
        // The path is validated above and passed as an argument, never spliced into the script. A symlink the learner
        // made cannot carry the write out of the home folder: the target is resolved (links included) and must stay in it.
        const script =
          'target=$(realpath -m -- "$1") && case "$target" in /home/learner/?*) ;; *) echo "it leads outside /home/learner" >&2; exit 3;; esac' +
          ' && mkdir -p -- "$(dirname -- "$target")" && cat > "$target"';
        const result = await execCollect(
          deps.kube,
          sandbox.namespace,
          TOOLBOX_POD,
          TOOLBOX_CONTAINER,
          ['sh', '-c', script, 'sh', `/home/learner/${body.path}`],
          10_000,
          body.content,
        );
        if (result.exitCode !== 0)
          throw new ApiError('conflict', `could not write ${body.path}: ${result.stderr.trim()}`);
        return c.body(null, 204);
      })
      // The editor reads what the terminal wrote, under the same confinement as the write above, at most 64 KiB.
      .get('/:id/files', valid('param', idParam), valid('query', readFileQuery), async (c) => {
        const { path } = c.req.valid('query');
        const sandbox = await own(c, c.req.valid('param').id);
        if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
        const script =
          'target=$(realpath -m -- "$1") && case "$target" in /home/learner/?*) ;; *) echo "it leads outside /home/learner" >&2; exit 3;; esac' +
          ' && if [ ! -f "$target" ]; then echo "no such file" >&2; exit 4; fi && head -c 65537 -- "$target"';
        const result = await execCollect(deps.kube, sandbox.namespace, TOOLBOX_POD, TOOLBOX_CONTAINER, [
          'sh',
          '-c',
          script,
          'sh',
          `/home/learner/${path}`,
        ]);
        if (result.exitCode === 4) throw new ApiError('not_found', `no file ~/${path}`);
        if (result.exitCode !== 0) throw new ApiError('conflict', `could not read ${path}: ${result.stderr.trim()}`);
        if (Buffer.byteLength(result.stdout) > 64 * 1024) {
          throw new ApiError('payload_too_large', `~/${path} is over 64 KiB`);
        }
        return c.json({ path, content: result.stdout }, 200);
      })
      // The editor's diagnostics: the API server's own words for each document, as a dry-run apply by the learner.
      .post('/:id/validate', valid('param', idParam), jsonBody(validateBody), async (c) => {
        const sandbox = await own(c, c.req.valid('param').id);
        if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
        const content = c.req.valid('json').content;
        return c.json({ diagnostics: await validateManifests(deps.kube, sandbox.namespace, content) }, 200);
      })
      // The editor's completion: the fields of the kinds learners write, from the cluster's own OpenAPI schema.
      .get('/:id/schema', valid('param', idParam), async (c) => {
        await own(c, c.req.valid('param').id);
        c.header('Cache-Control', 'private, max-age=3600');
        return c.json(await apiSchema(), 200);
      })
      .get('/:id/changes', valid('param', idParam), async (c) => {
        const sandbox = await own(c, c.req.valid('param').id);
        return streamSSE(c, async (stream) => {
          let seq = 0;
          const stop = watchNamespace(deps.kube, sandbox.namespace, () => {
            void stream.writeSSE({ event: 'change', data: JSON.stringify({ seq: ++seq }), id: String(seq) });
          });
          stream.onAbort(stop);
          await stream.writeSSE({ event: 'hello', data: JSON.stringify({ sandbox: sandbox.id }) });
          // Keep the stream open (with a comment line as heartbeat) until the browser goes away.
          while (!stream.aborted && !stream.closed) {
            await stream.sleep(15_000);
            await stream.write(': keep-alive\n\n');
          }
          stop();
        });
      })
      .post('/:id/exercises/:exerciseId/setup', valid('param', exerciseParam), async (c) => {
        const { id, exerciseId } = c.req.valid('param');
        const sandbox = await own(c, id);
        await forKnownExercise(() => deps.checks.setUp(sandbox.namespace, exerciseId));
        return c.body(null, 204);
      })
      .post('/:id/checks/:exerciseId', valid('param', exerciseParam), jsonBody(checkBody), async (c) => {
        const { id, exerciseId } = c.req.valid('param');
        const body = c.req.valid('json');
        const sandbox = await own(c, id);
        if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
        const report = await forKnownExercise(() =>
          deps.checks.run(c.get('session'), sandbox.id, sandbox.namespace, exerciseId, body.answer, body.trigger),
        );
        return c.json(report, 200);
      })
      // The same run, told as it goes: the page shows each check's verdict as it comes and which one is still waiting
      // for the learner's Pods to behave, instead of one answer after the slowest check.
      .post('/:id/checks/:exerciseId/stream', valid('param', exerciseParam), jsonBody(checkBody), async (c) => {
        const { id, exerciseId } = c.req.valid('param');
        const body = c.req.valid('json');
        const sandbox = await own(c, id);
        if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
        if (!getExercise(exerciseId)) throw new ApiError('not_found', `no exercise "${exerciseId}"`);
        c.header('content-type', 'application/x-ndjson; charset=utf-8');
        c.header('cache-control', 'no-store');
        return stream(c, async (out) => {
          // A learner who leaves mid-run still gets the verdict stored; only the lines are dropped.
          const send = (line: CheckStreamLine<CheckResult, ExerciseReport>) =>
            out.aborted
              ? Promise.resolve()
              : out.write(`${JSON.stringify(line)}\n`).then(
                  () => undefined,
                  () => undefined,
                );
          try {
            const report = await deps.checks.run(
              c.get('session'),
              sandbox.id,
              sandbox.namespace,
              exerciseId,
              body.answer,
              body.trigger,
              (check) => void send({ check }),
            );
            await send({ report });
          } catch (error) {
            deps.log.error({ err: error, requestId: c.get('requestId') }, 'a streamed check run failed');
            await send({
              error: { code: 'internal', message: 'the checks broke off on our side; it has been logged' },
            });
          }
        });
      })
  );
}
