// The Hono application: sessions, the sandbox API, checks, progress, health and metrics. No port: tests call app.request().
import { randomUUID } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import { rateLimiter } from 'hono-rate-limiter';
import type { Logger } from 'pino';
import { z } from 'zod';
import { getExercise, summarize } from '../../../exercises/registry.ts';
import { validateManifests } from '../cluster/dry-run.ts';
import { execCollect } from '../cluster/exec.ts';
import type { Kube } from '../cluster/kube.ts';
import { TOOLBOX_CONTAINER, TOOLBOX_POD } from '../cluster/labels.ts';
import { watchNamespace } from '../cluster/namespace-watch.ts';
import { parseOrExplain } from '../protocol/explain.ts';
import {
  checkBody,
  createSandboxBody,
  extendSandboxBody,
  readFileQuery,
  validateBody,
  writeFileBody,
} from '../protocol/schemas.ts';
import { type CheckService, UnknownExerciseError } from '../sandboxes/checks.ts';
import type { WarmPool } from '../sandboxes/pool.ts';
import { ownerHash, type Sandbox, SandboxError, type Sandboxes } from '../sandboxes/sandboxes.ts';
import type { Repository } from '../store/repository.ts';
import type { WorkshopService } from '../workshops/workshops.ts';
import { readBody } from './body.ts';
import { ApiError, errorJson, toErrorResponse } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { clientAddress } from './peer.ts';
import { PREVIEW_PREFIX } from './preview.ts';
import { previewRoute } from './preview-route.ts';
import { ProbeLimiter } from './probe-limit.ts';
import { resumeRoutes } from './routes/resume.ts';
import { workshopRoutes } from './routes/workshops.ts';
import { SESSION_COOKIE, type SessionSigner, sessionCookieOptions } from './session.ts';

export interface AppDeps {
  kube: Kube;
  sandboxes: Sandboxes;
  pool: WarmPool;
  checks: CheckService;
  repo: Repository;
  signer: SessionSigner;
  metrics: Metrics;
  log: Logger;
  maxSandboxes: number;
  createRatePerMinute: number;
  secureCookies: boolean;
  allowedOrigins: string[];
  /** Workshops (join flow, instructor dashboard); mounted when given. */
  workshops?: WorkshopService;
  /** Budget for sandbox lookups that miss, shared with the terminal upgrade; a fresh one when not given. */
  probes?: ProbeLimiter;
}

type Env = { Variables: { session: string; requestId: string } };

const MAX_BODY_BYTES = 96 * 1024;
const idParam = z.object({ id: z.string().max(64) });
const exerciseParam = z.object({
  exerciseId: z.string().regex(/^[a-z0-9-]{1,63}$/, 'an exercise id such as "logging-sidecar"'),
});
const lessonParam = z.object({
  lesson: z.string().regex(/^[a-z0-9-]{1,80}$/, 'a lesson id such as "logging-sidecar"'),
});

export function createApp(deps: AppDeps) {
  const { sandboxes, log } = deps;
  const app = new Hono<Env>();

  app.onError((error, c) =>
    toErrorResponse(c, error, (e) => log.error({ err: e, requestId: c.get('requestId') }, 'request failed')),
  );
  app.notFound((c) => errorJson(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`));

  // Every request gets an id for logs and errors, and every learner a signed session cookie.
  app.use('*', async (c, next) => {
    c.set('requestId', randomUUID());
    let session = deps.signer.verify(getCookie(c, SESSION_COOKIE));
    if (!session) {
      session = deps.signer.newId();
      // A Pod's page asking for more of itself is never handed a session of the course.
      if (c.req.path.startsWith(PREVIEW_PREFIX)) {
        c.set('session', session);
        return next();
      }
      setCookie(c, SESSION_COOKIE, deps.signer.sign(session), sessionCookieOptions(deps.secureCookies));
    }
    c.set('session', session);
    await next();
  });
  // Every answer, page or API, says: no MIME sniffing, no framing by other sites, no referrer to other sites.
  app.use(
    '*',
    secureHeaders({
      xFrameOptions: 'DENY',
      referrerPolicy: 'same-origin',
      // Plain HTTP on localhost is the common case; HSTS belongs to the HTTPS proxy in front, when there is one.
      strictTransportSecurity: false,
      // A page that asks for something stricter (the dashboard: no referrer at all) keeps its own.
      overwrite: false,
    }),
  );
  // Cross-site form posts (the one kind of cross-origin write a browser sends with cookies) are refused.
  app.use('/api/*', csrf({ origin: deps.allowedOrigins }));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => errorJson(c, 'payload_too_large', `request bodies are limited to ${MAX_BODY_BYTES / 1024} KiB`),
    }),
  );

  // Guessing ids: every 404 under a sandbox id is a miss; past the budget, lookups stop before the API server.
  const probes = deps.probes ?? new ProbeLimiter();
  const probeGuard: MiddlewareHandler<Env> = async (c, next) => {
    const session = c.get('session');
    const address = clientAddress(c);
    const wait = probes.retryAfter(session, address);
    if (wait !== undefined) {
      c.header('Retry-After', String(wait));
      return errorJson(c, 'rate_limited', `too many requests for sandboxes that do not exist; wait ${wait} s`);
    }
    await next();
    if (c.res.status === 404) probes.miss(session, address);
  };
  app.use('/api/sandboxes/:id/*', probeGuard);

  /** The caller's own sandbox by id; anyone else's is reported as missing so ids cannot be probed. */
  async function ownSandbox(c: Context<Env>): Promise<Sandbox> {
    const { id } = parseOrExplain(idParam, c.req.param(), 'path');
    const sandbox = await sandboxes.get(id);
    if (!sandbox || sandbox.owner !== ownerHash(c.get('session'))) throw new ApiError('not_found', 'no such sandbox');
    return sandbox;
  }

  const createLimiter = rateLimiter<Env>({
    windowMs: 60_000,
    limit: deps.createRatePerMinute,
    standardHeaders: 'draft-7',
    keyGenerator: (c) => c.get('session'),
    handler: (c) => errorJson(c, 'rate_limited', 'too many sandboxes requested; wait a minute and try again'),
  });

  /** One sandbox per learner even when two requests race: the second waits for the first and gets the same. */
  const creating = new Map<string, Promise<unknown>>();

  app.post('/api/sandboxes', createLimiter, async (c) => {
    const body = await readBody(c, createSandboxBody);
    if (body.exercise && !getExercise(body.exercise))
      throw new ApiError('bad_request', `no exercise "${body.exercise}"`);
    const owner = ownerHash(c.get('session'));
    const pending = creating.get(owner);
    if (pending) await pending.catch(() => undefined);
    let release: () => void = () => undefined;
    creating.set(owner, new Promise<void>((resolve) => (release = resolve)));
    try {
      return await createOrReuse(c, owner, body.exercise);
    } finally {
      creating.delete(owner);
      release();
    }
  });

  async function createOrReuse(c: Context<Env>, owner: string, exercise: string | undefined) {
    const existing = await sandboxes.findByOwner(owner);
    if (existing && existing.status !== 'expired') return c.json(sandboxes.toView(existing), 200);
    const started = performance.now();
    const live = (await sandboxes.list()).filter((s) => s.owner && s.status !== 'deleting' && s.status !== 'expired');
    if (live.length >= deps.maxSandboxes) {
      throw new SandboxError('capacity', 'all sandboxes are in use right now; try again in a few minutes');
    }
    // A workshop learner who starts over stays in the workshop: its label and end time go on the new sandbox.
    const claim = deps.workshops?.claimOptions(c.get('session'));
    let sandbox = await sandboxes.claimWarm(owner, claim);
    let source = 'warm';
    if (!sandbox) {
      sandbox = await sandboxes.provision(owner, claim);
      source = 'cold';
    }
    deps.metrics.provisionSeconds.observe({ source }, (performance.now() - started) / 1000);
    deps.pool.refillSoon();
    if (exercise) await deps.checks.setUp(sandbox.namespace, exercise);
    log.info({ sandbox: sandbox.id, source, ms: Math.round(performance.now() - started) }, 'sandbox claimed');
    return c.json(sandboxes.toView(sandbox), 201);
  }

  app.get('/api/sandboxes/:id', async (c) => c.json(sandboxes.toView(await ownSandbox(c))));

  app.delete('/api/sandboxes/:id', async (c) => {
    const sandbox = await ownSandbox(c);
    await sandboxes.delete(sandbox.id);
    return c.body(null, 204);
  });

  app.post('/api/sandboxes/:id/extend', async (c) => {
    const body = await readBody(c, extendSandboxBody);
    const sandbox = await ownSandbox(c);
    if (sandbox.status === 'expired' || sandbox.status === 'deleting') {
      throw new ApiError('conflict', `the sandbox is ${sandbox.status}; start a new one`);
    }
    return c.json(sandboxes.toView(await sandboxes.extend(sandbox, body.minutes)));
  });

  app.post('/api/sandboxes/:id/files', async (c) => {
    const body = await readBody(c, writeFileBody);
    const sandbox = await ownSandbox(c);
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
    if (result.exitCode !== 0) throw new ApiError('conflict', `could not write ${body.path}: ${result.stderr.trim()}`);
    return c.body(null, 204);
  });

  // The editor reads what the terminal wrote, under the same confinement as the write above, at most 64 KiB.
  app.get('/api/sandboxes/:id/files', async (c) => {
    const { path } = parseOrExplain(readFileQuery, c.req.query(), 'query');
    const sandbox = await ownSandbox(c);
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
    if (Buffer.byteLength(result.stdout) > 64 * 1024)
      throw new ApiError('payload_too_large', `~/${path} is over 64 KiB`);
    return c.json({ path, content: result.stdout });
  });

  // The editor's diagnostics: the API server's own words for each document, as a dry-run apply by the learner.
  app.post('/api/sandboxes/:id/validate', async (c) => {
    const body = await readBody(c, validateBody);
    const sandbox = await ownSandbox(c);
    if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
    return c.json({ diagnostics: await validateManifests(deps.kube, sandbox.namespace, body.content) });
  });

  app.get('/api/sandboxes/:id/changes', async (c) => {
    const sandbox = await ownSandbox(c);
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
  });

  app.post('/api/sandboxes/:id/exercises/:exerciseId/setup', async (c) => {
    const { exerciseId } = parseOrExplain(exerciseParam, c.req.param(), 'path');
    const sandbox = await ownSandbox(c);
    try {
      await deps.checks.setUp(sandbox.namespace, exerciseId);
    } catch (error) {
      if (error instanceof UnknownExerciseError) throw new ApiError('not_found', error.message);
      throw error;
    }
    return c.body(null, 204);
  });

  app.post('/api/sandboxes/:id/checks/:exerciseId', async (c) => {
    const { exerciseId } = parseOrExplain(exerciseParam, c.req.param(), 'path');
    const body = await readBody(c, checkBody);
    const sandbox = await ownSandbox(c);
    if (sandbox.status !== 'ready') throw new ApiError('conflict', `the sandbox is ${sandbox.status}`);
    try {
      const report = await deps.checks.run(
        c.get('session'),
        sandbox.id,
        sandbox.namespace,
        exerciseId,
        body.answer,
        body.trigger,
      );
      return c.json(report);
    } catch (error) {
      if (error instanceof UnknownExerciseError) throw new ApiError('not_found', error.message);
      throw error;
    }
  });

  app.get('/api/exercises/:exerciseId', (c) => {
    const exercise = getExercise(parseOrExplain(exerciseParam, c.req.param(), 'path').exerciseId);
    if (!exercise) throw new ApiError('not_found', 'no such exercise');
    return c.json(summarize(exercise));
  });

  app.get('/api/progress', (c) => c.json(deps.repo.progress(c.get('session'))));
  app.post('/api/progress/lessons/:lesson', (c) => {
    const { lesson } = parseOrExplain(lessonParam, c.req.param(), 'path');
    deps.repo.markLessonRead(c.get('session'), lesson);
    return c.body(null, 204);
  });

  app.get(`${PREVIEW_PREFIX}/:id/pods/:pod/:port/*`, previewRoute({ kube: deps.kube, probes, ownSandbox }));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) => {
    const live = await sandboxes.list().catch(() => undefined);
    if (live) deps.metrics.activeSandboxes.set(live.filter((s) => s.owner && s.status === 'ready').length);
    return c.text(await deps.metrics.registry.metrics(), 200, { 'Content-Type': deps.metrics.registry.contentType });
  });

  app.route('/', resumeRoutes({ repo: deps.repo, signer: deps.signer, secureCookies: deps.secureCookies }));
  if (deps.workshops) app.route('/', workshopRoutes({ workshops: deps.workshops, sandboxes, log }));
  return app;
}
