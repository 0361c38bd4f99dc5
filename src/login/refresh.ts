/**
 * Silent renewal for browsers: a request whose access cookie is missing or expired but that
 * carries the sealed refresh cookie gets a new access token from the IdP (refresh_token grant).
 *
 * Enforces: the refresh cookie must open (not tampered, not past `cookie.max_age`); the new
 * access token passes the verifier like any other before it is used; the new auth cookie (and
 * the rotated refresh token, when the IdP sent one) are appended to the response's Set-Cookie,
 * never replacing cookies already set; on ANY failure the refresh cookie is cleared, so a dead
 * refresh token is not replayed on every request. Counted as `browser` logins with result
 * `refreshed` or `refresh_failed`; audited like a login. Concurrent requests carrying the same
 * refresh cookie share one renewal (for a few seconds): an IdP that rotates refresh tokens
 * accepts the old one only once, so parallel grants would log the user out.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parseCookies } from '../http/cookies.js';
import type { RequestInfo } from '../http/request-info.js';
import { recordOutcome } from './context.js';
import type { LoginEnv } from './context.js';
import { clearRefreshCookie, refreshCookieName } from './cookies-out.js';
import { tokenRequest } from './idp-client.js';
import { readSealedSession, sessionCookies, verifySession } from './session.js';

export async function refreshSession(res: ServerResponse, info: RequestInfo, env: LoginEnv, renewals: Renewals): Promise<string | undefined> {
  const sealer = env.sealer();
  const sealed = parseCookies(info.headers.cookie).get(refreshCookieName(env.login.cookie));
  if (sealer === undefined || sealed === undefined || sealed === '') return undefined;

  const token = await renewals.renew(env, sealed);
  if (token.ok) {
    res.appendHeader('set-cookie', token.cookies);
    recordOutcome(env, info, { kind: 'browser', result: 'refreshed', user: token.user, token: token.fingerprint, status: 200 });
    return token.accessToken;
  }
  res.appendHeader('set-cookie', clearRefreshCookie(env.login.cookie));
  env.deps.recorder.metrics.login('browser', 'refresh_failed');
  return undefined;
}

type Renewal =
  | { readonly ok: true; readonly accessToken: string; readonly cookies: string[]; readonly user: string; readonly fingerprint: string }
  | { readonly ok: false };

/** How long a finished renewal is handed to late requests that raced it with the same cookie. */
const SHARE_MS = 5_000;

/** The renewals in flight (and just finished), by refresh cookie; one set per login instance. */
export interface Renewals {
  renew(env: LoginEnv, sealed: string): Promise<Renewal>;
  /** Logout: a renewal shared for this refresh cookie is not handed out any more. */
  forget(sealed: string): void;
}

const renewalKey = (sealed: string): string => createHash('sha256').update(sealed).digest('base64url');

export function createRenewals(): Renewals {
  const pending = new Map<string, Promise<Renewal>>();
  return {
    renew(env, sealed) {
      const key = renewalKey(sealed);
      let renewal = pending.get(key);
      if (renewal === undefined) {
        const started = renew(env, sealed);
        renewal = started;
        pending.set(key, started);
        const forget = (): void =>
          void setTimeout(() => {
            if (pending.get(key) === started) pending.delete(key);
          }, SHARE_MS).unref();
        started.then(forget, forget);
      }
      return renewal;
    },
    forget(sealed) {
      pending.delete(renewalKey(sealed));
    },
  };
}

async function renew(env: LoginEnv, sealed: string): Promise<Renewal> {
  const kept = readSealedSession(await env.sealer()?.open('refresh', sealed));
  if (kept === undefined) return { ok: false };
  const meta = await env.metadata();
  if (!meta.ok) return { ok: false };
  const grant = await tokenRequest(
    meta.meta,
    env.login,
    { grant_type: 'refresh_token', refresh_token: kept.refreshToken },
    env.issuer.jwks.timeoutMs,
    env.deps.dispatcher,
  );
  if (!grant.ok) return { ok: false };
  const verified = await verifySession(env, grant.tokens);
  if (!verified.ok) return { ok: false };
  const { session } = verified;
  const cookies = await sessionCookies(env, session, grant.tokens, kept.idToken);
  if (cookies === undefined) return { ok: false };
  return {
    ok: true,
    accessToken: session.accessToken,
    cookies,
    user: session.identity.user,
    fingerprint: session.fingerprint,
  };
}
