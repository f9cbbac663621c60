// Coming back on another device without an account: a learner asks for a resume code (60 random bits, shown once,
// kept only as a hash), and entering it in another browser gives that browser the same session — the same progress,
// sandbox, saved check history and workshop seat. A new code revokes the old one; a learner can revoke it outright.
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { rateLimiter } from 'hono-rate-limiter';
import { z } from 'zod';
import type { Repository } from '../../store/repository.ts';
import { formatJoinCode, hashToken, newJoinCode, normalizeJoinCode } from '../../workshops/secrets.ts';
import type { AppEnv } from '../env.ts';
import { ApiError, errorJson } from '../errors.ts';
import { clientAddress } from '../peer.ts';
import { SESSION_COOKIE, type SessionSigner, sessionCookieOptions } from '../session.ts';
import { SharedRateLimitStore } from '../shared-rate-limit.ts';
import { jsonBody } from '../validate.ts';

type Env = AppEnv;

export interface ResumeRouteDeps {
  repo: Repository;
  signer: SessionSigner;
  secureCookies: boolean;
  /** Wrong codes one address may try per ten minutes (a code has 60 random bits: guessing one stays hopeless). */
  wrongCodesPer10Minutes?: number;
}

export const resumeBody = z.object({ code: z.string().max(40) }).strict();

/** The resume routes; chained, so their types reach the site's typed client (AppType). */
export function resumeRoutes(deps: ResumeRouteDeps) {
  // Only failures count, so a learner who mistyped once is not locked out, and a guesser is after a few tries.
  const redeemLimiter = rateLimiter<Env>({
    windowMs: 10 * 60_000,
    limit: deps.wrongCodesPer10Minutes ?? 30,
    standardHeaders: 'draft-7',
    keyGenerator: clientAddress,
    store: new SharedRateLimitStore(deps.repo, 'resume-redeem'),
    skipSuccessfulRequests: true,
    requestWasSuccessful: (c) => c.res.status < 400,
    handler: (c) => errorJson(c, 'rate_limited', 'too many wrong resume codes from your network; wait ten minutes'),
  });

  return new Hono<Env>()
    .get('/api/resume-code', async (c) => {
      const createdAt = await deps.repo.resumeCodeCreatedAt(c.get('session'));
      return c.json({ active: createdAt !== undefined, ...(createdAt ? { createdAt } : {}) }, 200);
    })
    .post('/api/resume-code', async (c) => {
      const code = newJoinCode();
      const createdAt = await deps.repo.createResumeCode(c.get('session'), hashToken(code));
      const shown = formatJoinCode(code);
      return c.json({ code: shown, path: `/resume/#${shown}`, createdAt }, 201);
    })
    .delete('/api/resume-code', async (c) => {
      await deps.repo.revokeResumeCodes(c.get('session'));
      return c.body(null, 204);
    })
    .post('/api/resume', redeemLimiter, jsonBody(resumeBody), async (c) => {
      const { code } = c.req.valid('json');
      const normalized = normalizeJoinCode(code);
      if (!normalized)
        throw new ApiError('bad_request', 'a resume code has 12 letters and digits, e.g. ABCD-EFGH-JKMN');
      const session = await deps.repo.resumeSession(hashToken(normalized));
      if (!session) throw new ApiError('not_found', 'no such resume code (it may have been replaced or revoked)');
      if (session !== c.get('session')) {
        setCookie(c, SESSION_COOKIE, deps.signer.sign(session), sessionCookieOptions(deps.secureCookies));
      }
      return c.json({ resumed: true }, 200);
    });
}
