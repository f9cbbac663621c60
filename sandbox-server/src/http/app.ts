// The Hono application: sessions, the sandbox API, checks, progress, health and metrics. No port: tests call app.request().
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type { Kube } from '../cluster/kube.ts';
import type { ActivityRecorder } from '../sandboxes/activity.ts';
import type { CheckService } from '../sandboxes/checks.ts';
import type { WarmPool } from '../sandboxes/pool.ts';
import type { Sandboxes } from '../sandboxes/sandboxes.ts';
import type { Saves } from '../saves/saves.ts';
import type { Repository } from '../store/repository.ts';
import type { WorkshopService } from '../workshops/workshops.ts';
import type { AppEnv } from './env.ts';
import { errorJson, toErrorResponse } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { PREVIEW_PREFIX } from './preview.ts';
import { previewRoute } from './preview-route.ts';
import { ProbeLimiter } from './probe-limit.ts';
import { courseRoutes } from './routes/course.ts';
import { accountRoutes, type OidcSettings, oidcRoutes } from './routes/oidc.ts';
import { resumeRoutes } from './routes/resume.ts';
import { ownSandbox, sandboxRoutes } from './routes/sandboxes.ts';
import { saveRoutes } from './routes/saves.ts';
import { workshopRoutes } from './routes/workshops.ts';
import { workspaceRoutes } from './routes/workspace.ts';
import { SESSION_COOKIE, type SessionSigner, sessionCookieOptions } from './session.ts';
import { type SiteOptions, sitePage } from './static-site.ts';

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
  /** Records the learner's activity (files written, exercises set up) so their sandbox stays alive; none when not given. */
  activity?: ActivityRecorder;
  /** The learner's saved work: restored into their next sandbox, "Save and stop", download, delete. */
  saves?: Saves;
  /** Sign-in with an OpenID Connect provider, when one is configured. */
  oidc?: { settings: OidcSettings; cookieSecret: string };
  /** The built course site, for the site pages a route sends itself (the workshop dashboard); dist/site when not given. */
  site?: SiteOptions;
}

const MAX_BODY_BYTES = 96 * 1024;
/** The instructor's dashboard as Astro builds it (site/pages/workshops/dashboard.astro). */
const DASHBOARD_PAGE = 'workshops/dashboard/index.html';
export function createApp(deps: AppDeps) {
  const { sandboxes, log } = deps;
  const app = new Hono<AppEnv>();

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

  const probes = deps.probes ?? new ProbeLimiter({ counters: deps.repo });
  const api = app
    .route('/api/sandboxes', sandboxRoutes({ ...deps, probes }))
    .route('/api', courseRoutes(deps.repo))
    .route('/', resumeRoutes({ repo: deps.repo, signer: deps.signer, secureCookies: deps.secureCookies }))
    // The workspace beyond the first terminal: the live Pod picture and the terminal tabs.
    .route(
      '/',
      workspaceRoutes({
        kube: deps.kube,
        log,
        ownSandbox: (c) => ownSandbox(deps.sandboxes, c.get('session'), c.req.param('id') ?? ''),
      }),
    )
    .route('/', saveRoutes({ saves: deps.saves, sandboxes, log }))
    .route(
      '/',
      accountRoutes({
        signInAvailable: Boolean(deps.oidc),
        repo: deps.repo,
        signer: deps.signer,
        secureCookies: deps.secureCookies,
      }),
    );

  // A Pod's web page, outside /api/ so that a Pod's own 404 never counts as a guessed sandbox id.
  app.get(`${PREVIEW_PREFIX}/:id/pods/:pod/:port/*`, previewRoute({ kube: deps.kube, probes, sandboxes }));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) => {
    const live = await sandboxes.list().catch(() => undefined);
    if (live) deps.metrics.activeSandboxes.set(live.filter((s) => s.owner && s.status === 'ready').length);
    return c.text(await deps.metrics.registry.metrics(), 200, { 'Content-Type': deps.metrics.registry.contentType });
  });

  if (deps.workshops) {
    const dashboardPage = sitePage(deps.site ?? { root: 'dist/site' }, DASHBOARD_PAGE);
    app.route(
      '/',
      workshopRoutes({
        workshops: deps.workshops,
        sandboxes,
        log,
        dashboardPage,
        ticketKey: deps.signer.derivedKey('workshop stream tickets'),
        repo: deps.repo,
      }),
    );
  }
  // The sign-in flow is browser navigation (redirects), not API calls, so it stays outside the typed chain.
  if (deps.oidc) {
    app.route(
      '/',
      oidcRoutes({ ...deps.oidc, repo: deps.repo, signer: deps.signer, secureCookies: deps.secureCookies, log }),
    );
  }
  return api;
}

/**
 * The course API's routes and their request and response types, for `hc<AppType>` in the site: a route or shape that
 * changes here breaks the site's typecheck. (The workshop routes have their own type, WorkshopAppType.)
 */
export type AppType = ReturnType<typeof createApp>;
