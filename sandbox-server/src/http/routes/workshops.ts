// Workshop routes: the join flow for learners, the instructor's dashboard page, its API and event stream, and exports.
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { rateLimiter } from 'hono-rate-limiter';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createWorkshopBody, extendWorkshopBody, joinWorkshopBody } from '../../protocol/workshops.ts';
import type { Sandboxes } from '../../sandboxes/sandboxes.ts';
import type { RateLimitCounters, WorkshopRecord } from '../../store/repository.ts';
import { toCsv } from '../../workshops/results.ts';
import { formatJoinCode, TicketSigner } from '../../workshops/secrets.ts';
import { isOpenFor, type WorkshopService } from '../../workshops/workshops.ts';
import type { AppEnv } from '../env.ts';
import { ApiError, errorJson } from '../errors.ts';
import { fullBody, infoBody, joinBody, joinCodeBody, sendPage } from '../pages/workshops.ts';
import { clientAddress } from '../peer.ts';
import { SharedRateLimitStore } from '../shared-rate-limit.ts';
import { jsonBody, valid } from '../validate.ts';

type Env = AppEnv;
/** Instructor routes also carry the workshop whose token came with the request. */
type InstructorEnv = { Variables: AppEnv['Variables'] & { workshop: WorkshopRecord } };

export interface WorkshopRouteDeps {
  workshops: WorkshopService;
  sandboxes: Pick<Sandboxes, 'toView'>;
  log: Logger;
  /** The site's dashboard page with the site's headers (static-site.ts `sitePage`); undefined when it is not built. */
  dashboardPage: (c: Context) => Promise<Response | undefined>;
  /** Signs the dashboard's stream tickets; the same on every replica (derived from the session secret). */
  ticketKey: Buffer;
  /** Where the join and create limits count, so replicas on one database share them. */
  repo: RateLimitCounters;
}

const idParam = z.object({ id: z.string().max(64) });
const learnerParam = idParam.extend({ learner: z.string().max(64) });
const joinQuery = z.object({ code: z.string().optional() });
const ticketQuery = z.object({ ticket: z.string().max(500).optional() });
const UNAUTHORIZED = "this needs the workshop's instructor token (Authorization: Bearer …)";

/**
 * Hono's bearerAuth against the workshop in the path (its token's hash, compared in constant time), answering in our
 * error shape: no header, another scheme, a malformed or a wrong token are all the same 401 with `WWW-Authenticate`,
 * so a caller learns nothing about which workshops exist. The workshop is left in `c.var.workshop`.
 */
export function instructorAuth(workshops: Pick<WorkshopService, 'authorize'>): MiddlewareHandler<InstructorEnv> {
  const refusal = { message: (c: Context) => errorJson(c, 'unauthorized', UNAUTHORIZED) };
  const auth = bearerAuth({
    verifyToken: async (token, c: Context<InstructorEnv>) => {
      const workshop = await workshops.authorize(c.req.param('id') ?? '', token);
      if (workshop) c.set('workshop', workshop);
      return Boolean(workshop);
    },
    noAuthenticationHeader: refusal,
    invalidAuthenticationHeader: refusal,
    invalidToken: refusal,
  });
  return async (c, next) => {
    try {
      return await auth(c, next);
    } catch (error) {
      // bearerAuth throws its refusal (built above, in our shape, with WWW-Authenticate): send it as it is.
      if (error instanceof HTTPException && error.status === 401) return error.getResponse();
      throw error;
    }
  };
}
/** Between two pushes of the grid at most this long passes, so time-outs and out-of-band changes show up too. */
const REFRESH_MS = 10_000;
/** Coalesces a burst of changes (a whole room pressing Check at once) into one push. */
const DEBOUNCE_MS = 150;

/** "sidecars-101-tuesday" for file names: the workshop's name, reduced to safe characters. */
const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'workshop';

/** The workshop routes (pages and API); chained, so the instructor pages' typed client gets them (WorkshopAppType). */
export function workshopRoutes(deps: WorkshopRouteDeps) {
  const { workshops, log } = deps;
  const tickets = new TicketSigner(deps.ticketKey);

  /** Rate limits answer like the route they guard: a page for pages, the error shape for the API. */
  const limit = (options: {
    /** Keeps this limit's counts apart from the others' on the same key. */
    name: string;
    windowMs: number;
    limit: number;
    key: (c: Context<Env>) => string;
    onlyFailures?: boolean;
    message: string;
  }) =>
    rateLimiter<Env>({
      windowMs: options.windowMs,
      limit: options.limit,
      standardHeaders: 'draft-7',
      keyGenerator: options.key,
      store: new SharedRateLimitStore(deps.repo, options.name),
      ...(options.onlyFailures
        ? { skipSuccessfulRequests: true, requestWasSuccessful: (c) => c.res.status !== 404 }
        : {}),
      handler: (c) =>
        c.req.path.startsWith('/api/')
          ? errorJson(c, 'rate_limited', options.message)
          : sendPage(c, 429, {
              title: 'Too many attempts',
              kind: 'info',
              body: infoBody('Too many attempts', options.message),
            }),
    });

  // Joining: a learner gets a handful of tries a minute; a room behind one NAT address shares a generous budget;
  // and wrong codes from one address are capped: at 100 per 10 minutes, finding one live 60-bit code takes ~10^11
  // years, while a room's typos do not lock it out.
  const joinLimits = [
    limit({
      name: 'workshop-join-session',
      windowMs: 60_000,
      limit: 20,
      key: (c) => c.get('session'),
      message: 'too many join attempts; wait a minute',
    }),
    limit({
      name: 'workshop-join-address',
      windowMs: 60_000,
      limit: 240,
      key: clientAddress,
      message: 'too many join attempts from your network; wait a minute',
    }),
    limit({
      name: 'workshop-join-unknown-code',
      windowMs: 10 * 60_000,
      limit: 100,
      key: clientAddress,
      onlyFailures: true,
      message: 'too many unknown join codes from your network; wait ten minutes and check the code',
    }),
  ];
  const createLimit = limit({
    name: 'workshop-create',
    windowMs: 60 * 60_000,
    limit: 20,
    key: clientAddress,
    message: 'too many workshops created from your network; wait a while',
  });

  const instructor = instructorAuth(workshops);

  return (
    new Hono<Env>()
      // ---- Learners ------------------------------------------------------------------------------------------------
      .get('/join', valid('query', joinQuery), (c) => {
        const { code } = c.req.valid('query');
        if (code) return c.redirect(`/join/${encodeURIComponent(code.trim())}`, 303);
        return sendPage(c, 200, { title: 'Join a workshop', kind: 'join-code', body: joinCodeBody() });
      })
      .use('/join/:code', ...joinLimits)
      .use('/api/workshops/join', ...joinLimits)
      // Pages answer with pages, so their path is read as it is (an unknown or overlong code is the "unknown code" page).
      .get('/join/:code', async (c) => {
        const workshop = await workshops.byCode(c.req.param('code'));
        if (!workshop) {
          const body = infoBody('No workshop has this code', 'Check the code with your instructor and try again.');
          return sendPage(c, 404, { title: 'Unknown code', kind: 'info', body });
        }
        const member = await workshops.memberOf(workshop, c.get('session'));
        if (!isOpenFor(workshop, member)) {
          const body = infoBody('This workshop has ended', 'Ask your instructor what comes next.');
          return sendPage(c, 410, { title: 'This workshop has ended', kind: 'info', body });
        }
        if (!member && (await workshops.isFull(workshop))) {
          return sendPage(c, 409, { title: 'This workshop is full', kind: 'info', body: fullBody(workshop) });
        }
        return sendPage(c, 200, {
          title: `Join ${workshop.name}`,
          kind: 'join',
          body: joinBody(workshop, member),
          data: { code: formatJoinCode(workshop.code) },
        });
      })
      .post('/api/workshops/join', jsonBody(joinWorkshopBody), async (c) => {
        const body = c.req.valid('json');
        const { workshop, learner, sandbox, joined } = await workshops.join(body.code, c.get('session'), body.name);
        return c.json(
          {
            workshop: { name: workshop.name, endsAt: workshop.endsAt },
            learner: { name: learner.name },
            sandbox: deps.sandboxes.toView(sandbox),
          },
          joined ? 201 : 200,
        );
      })
      /** The learner's own workshop, for the course pages; never anyone else's name or progress. */
      .get('/api/workshops/me', async (c) => {
        const view = await workshops.learnerView(c.get('session'));
        if (!view) throw new ApiError('not_found', 'this browser has not joined a workshop');
        return c.json(view);
      })
      // ---- Instructors ---------------------------------------------------------------------------------------------
      // The new-workshop page is the site's (site/pages/workshops/new.astro), served with the rest of the course.
      .post('/api/workshops', createLimit, jsonBody(createWorkshopBody), async (c) => {
        const body = c.req.valid('json');
        const { workshop, token } = await workshops.create({
          name: body.name,
          capacity: body.capacity,
          durationMinutes: body.duration,
          exercises: body.exercises,
        });
        const code = formatJoinCode(workshop.code);
        return c.json(
          {
            id: workshop.id,
            name: workshop.name,
            code,
            token,
            endsAt: workshop.endsAt,
            joinPath: `/join/${code}`,
            dashboardPath: `/workshops/${workshop.id}/dashboard`,
          },
          201,
        );
      })
      .get('/workshops/:id/dashboard', async (c) => {
        const workshop = await workshops.get(c.req.param('id'));
        if (!workshop) {
          return sendPage(c, 404, {
            title: 'No such workshop',
            kind: 'info',
            body: infoBody('No such workshop', 'Check the dashboard link.'),
          });
        }
        // The site's page (site/pages/workshops/dashboard.astro) holds no data: everything comes from the API with
        // the token, which stays in the browser. Its URL names the workshop, so no referrer at all leaves it.
        const page = await deps.dashboardPage(c);
        if (!page) {
          log.error({ workshop: workshop.id }, 'the dashboard page is not in the built site; run npm run build');
          const body = infoBody('The dashboard is not available', 'This server has no built course site.');
          return sendPage(c, 503, { title: 'Dashboard not available', kind: 'info', body });
        }
        page.headers.set('Referrer-Policy', 'no-referrer');
        page.headers.set('Cache-Control', 'no-store');
        return page;
      })
      .get('/api/workshops/:id', valid('param', idParam), instructor, async (c) =>
        c.json(await workshops.state(c.var.workshop.id)),
      )
      .post('/api/workshops/:id/tickets', valid('param', idParam), instructor, (c) =>
        c.json(tickets.mint(c.var.workshop.id), 201),
      )
      .get('/api/workshops/:id/events', valid('param', idParam), valid('query', ticketQuery), async (c) => {
        const workshop = await workshops.get(c.req.valid('param').id);
        if (!workshop || !tickets.verify(c.req.valid('query').ticket, workshop.id)) {
          throw new ApiError('unauthorized', 'this stream needs a fresh ticket from POST /api/workshops/:id/tickets');
        }
        return streamSSE(c, async (stream) => {
          let seq = 0;
          let timer: NodeJS.Timeout | undefined;
          const push = async () => {
            try {
              const state = await workshops.state(workshop.id);
              await stream.writeSSE({ event: 'state', data: JSON.stringify(state), id: String(++seq) });
            } catch (error) {
              log.warn({ err: error, workshop: workshop.id }, 'could not push the workshop grid; will retry');
            }
          };
          const schedule = () => {
            timer ??= setTimeout(() => {
              timer = undefined;
              void push();
            }, DEBOUNCE_MS);
          };
          const unsubscribe = workshops.subscribe(workshop.id, schedule);
          stream.onAbort(() => {
            unsubscribe();
            clearTimeout(timer);
          });
          await push();
          // The periodic push doubles as the heartbeat that keeps proxies from closing an idle stream.
          while (!stream.aborted && !stream.closed) {
            await stream.sleep(REFRESH_MS);
            schedule();
          }
          unsubscribe();
          clearTimeout(timer);
        });
      })
      .post(
        '/api/workshops/:id/extend',
        valid('param', idParam),
        instructor,
        jsonBody(extendWorkshopBody),
        async (c) => {
          const workshop = c.var.workshop;
          const body = c.req.valid('json');
          await workshops.extend(workshop, body.minutes, body.learner);
          return c.json({ state: await workshops.state(workshop.id) });
        },
      )
      .post('/api/workshops/:id/learners/:learner/reset', valid('param', learnerParam), instructor, async (c) => {
        const workshop = c.var.workshop;
        const { learner } = c.req.valid('param');
        const sandbox = await workshops.reset(workshop, learner);
        return c.json({ sandbox: deps.sandboxes.toView(sandbox), state: await workshops.state(workshop.id) });
      })
      .post('/api/workshops/:id/end', valid('param', idParam), instructor, async (c) => {
        const workshop = c.var.workshop;
        const deleted = await workshops.end(workshop);
        return c.json({ deleted, state: await workshops.state(workshop.id) });
      })
      .get('/api/workshops/:id/export.csv', valid('param', idParam), instructor, async (c) => {
        const workshop = c.var.workshop;
        c.header('Content-Disposition', `attachment; filename="${slug(workshop.name)}-results.csv"`);
        c.header('Cache-Control', 'no-store');
        return c.body(toCsv(await workshops.results(workshop)), 200, { 'Content-Type': 'text/csv; charset=utf-8' });
      })
      .get('/api/workshops/:id/export.json', valid('param', idParam), instructor, async (c) => {
        const workshop = c.var.workshop;
        c.header('Content-Disposition', `attachment; filename="${slug(workshop.name)}-results.json"`);
        c.header('Cache-Control', 'no-store');
        return c.json({
          workshop: {
            id: workshop.id,
            name: workshop.name,
            createdAt: workshop.createdAt,
            endsAt: workshop.endsAt,
            endedAt: workshop.endedAt ?? null,
            exercises: workshop.exercises,
          },
          results: await workshops.results(workshop),
        });
      })
  );
}

/** The workshop routes with their request and response types, for `hc<WorkshopAppType>` in the instructor pages. */
export type WorkshopAppType = ReturnType<typeof workshopRoutes>;
