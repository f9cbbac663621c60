// Optional sign-in with an organisation's OpenID Connect provider (authorization code flow with PKCE, through the
// openid-client library): an account is bound to the session that holds the learner's progress, so signing in on
// another device continues where they left off. Without an issuer configured, the sign-in routes do not exist and
// the account routes say that sign-in is not available.
import { Hono } from 'hono';
import { deleteCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { Repository } from '../../store/repository.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { SESSION_COOKIE, type SessionSigner, sessionCookieOptions } from '../session.ts';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Where browsers reach this server; the provider redirects to <publicUrl>/auth/callback. */
  publicUrl: string;
}

export interface OidcRouteDeps {
  settings: OidcSettings;
  repo: Repository;
  signer: SessionSigner;
  secureCookies: boolean;
  /** Signs the short-lived cookie that carries the sign-in's state, nonce and PKCE verifier. */
  cookieSecret: string;
  log: Logger;
}

/** The sign-in in flight, between the redirect to the provider and its answer. */
const FLOW_COOKIE = 'slab_oidc';
const FLOW_SECONDS = 600;

/** Plain HTTP is accepted only for a provider on this machine (a development or test provider). */
const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

/** Only a path on this site, so the return address cannot send the learner elsewhere. */
const safeReturn = (value: string | undefined) => (value && /^\/(?!\/)[\w\-./#?=&%]*$/.test(value) ? value : '/');

export function oidcRoutes(deps: OidcRouteDeps) {
  const { settings, log } = deps;
  const issuer = new URL(settings.issuer);
  const redirectUri = new URL('/auth/callback', settings.publicUrl).href;
  let discovered: Promise<client.Configuration> | undefined;
  // Discovered at the first sign-in (the provider may start after us) and kept; a failure is retried next time.
  const configuration = () => {
    discovered ??= client
      .discovery(
        issuer,
        settings.clientId,
        settings.clientSecret,
        settings.clientSecret ? undefined : client.None(),
        issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };

  return new Hono<AppEnv>()
    .get('/auth/login', async (c) => {
      let config: client.Configuration;
      try {
        config = await configuration();
      } catch (error) {
        log.warn({ err: error, issuer: settings.issuer }, 'OpenID provider discovery failed');
        throw new ApiError('cluster_unavailable', 'the sign-in provider is not answering; try again in a moment');
      }
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const flow = JSON.stringify({ verifier, state, nonce, back: safeReturn(c.req.query('return')) });
      await setSignedCookie(c, FLOW_COOKIE, flow, deps.cookieSecret, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: deps.secureCookies,
        path: '/auth',
        maxAge: FLOW_SECONDS,
      });
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return c.redirect(url.href, 302);
    })
    .get('/auth/callback', async (c) => {
      const raw = await getSignedCookie(c, deps.cookieSecret, FLOW_COOKIE);
      deleteCookie(c, FLOW_COOKIE, { path: '/auth' });
      if (!raw) throw new ApiError('bad_request', 'this sign-in has expired or was started elsewhere; sign in again');
      const flow = JSON.parse(raw) as { verifier: string; state: string; nonce: string; back: string };
      let claims: client.IDToken | undefined;
      let name: string | undefined;
      try {
        const current = new URL(c.req.url);
        const callback = new URL(`${redirectUri}${current.search}`);
        const tokens = await client.authorizationCodeGrant(await configuration(), callback, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims();
        name = typeof claims?.name === 'string' ? claims.name : undefined;
        // Providers that keep the ID token small give the name through the userinfo endpoint instead.
        if (!name && claims?.sub) {
          const info = await client
            .fetchUserInfo(await configuration(), tokens.access_token, claims.sub)
            .catch(() => undefined);
          name = typeof info?.name === 'string' ? info.name : undefined;
        }
      } catch (error) {
        log.warn({ err: error }, 'sign-in refused');
        throw new ApiError('forbidden', `the sign-in did not succeed: ${(error as Error).message}`);
      }
      if (!claims?.sub) throw new ApiError('forbidden', 'the provider did not say who signed in');
      const session = await deps.repo.accountSession(claims.iss, claims.sub, c.get('session'), name);
      if (session !== c.get('session')) {
        setCookie(c, SESSION_COOKIE, deps.signer.sign(session), sessionCookieOptions(deps.secureCookies));
      }
      return c.redirect(flow.back, 302);
    });
}

/**
 * Who is signed in, and signing out: always mounted (one chain, so the site's typed client knows them), answering
 * "sign-in is not available" when no provider is configured.
 */
export function accountRoutes(deps: {
  signInAvailable: boolean;
  repo: Repository;
  signer: SessionSigner;
  secureCookies: boolean;
}) {
  return (
    new Hono<AppEnv>()
      .get('/api/account', async (c) => {
        const account = deps.signInAvailable ? await deps.repo.accountOf(c.get('session')) : undefined;
        const state: AccountState = {
          signInAvailable: deps.signInAvailable,
          ...(account && { signedInAs: account.name }),
        };
        return c.json(state, 200);
      })
      // Under /api/, so the cross-site form check covers it.
      .post('/api/logout', (c) => {
        if (!deps.signInAvailable) throw new ApiError('not_found', 'sign-in is not available on this server');
        // A fresh anonymous session: the account's progress stays with the account for the next sign-in.
        const fresh = deps.signer.newId();
        setCookie(c, SESSION_COOKIE, deps.signer.sign(fresh), sessionCookieOptions(deps.secureCookies));
        return c.body(null, 204);
      })
  );
}

/** What the course page shows about sign-in. */
export interface AccountState {
  signInAvailable: boolean;
  /** The account's display name, when the session is signed in. */
  signedInAs?: string;
}
