/**
 * Logout (`GET`/`POST logout_path`, docs/login.md): ends the session at portcullis and at the
 * IdP.
 *
 * Enforces: a request showing another site as its origin (origin.ts `isForeignToLogout`) is
 * refused 403 `forbidden_origin` and changes nothing; otherwise the refresh token held in the
 * sealed refresh cookie is revoked at the IdP's `revocation_endpoint` (RFC 7009) when discovery
 * names one — a failed revocation is logged and never blocks the logout — and a renewal shared
 * for that cookie (refresh.ts) is forgotten; the auth cookie with
 * every chunk name, the refresh cookie and every flow cookie the request carries are cleared
 * (same Path and Domain as when set, Max-Age=0, Expires in the past); then 302 to the IdP's
 * end-session endpoint with `client_id`, `post_logout_redirect_uri` (configured, else
 * public_url + `/`) and `id_token_hint` when the sealed session kept the ID token; without an
 * end-session endpoint, 200 `{"logged_out": true}`. Logout never depends on the IdP being up:
 * without metadata it still clears the cookies. Audited as event `logout`.
 */
import type { ServerResponse } from 'node:http';
import { parseCookies } from '../http/cookies.js';
import type { RequestInfo } from '../http/request-info.js';
import { sendJson } from '../http/respond.js';
import { logIdpProblem, recordOutcome, refuse } from './context.js';
import type { LoginEnv } from './context.js';
import { clearAuthCookies, clearFlowCookie, clearRefreshCookie, FLOW_COOKIE_PREFIX, refreshCookieName } from './cookies-out.js';
import { revokeRefreshToken } from './idp-client.js';
import type { IdpMetadata } from './idp-client.js';
import { isForeignToLogout } from './origin.js';
import type { Renewals } from './refresh.js';
import { readSealedSession } from './session.js';
import type { SealedSession } from './session.js';

type BrowserConfig = NonNullable<LoginEnv['login']['browser']>;

async function openSession(env: LoginEnv, info: RequestInfo, renewals: Renewals): Promise<SealedSession | undefined> {
  const sealed = parseCookies(info.headers.cookie).get(refreshCookieName(env.login.cookie));
  if (sealed === undefined || sealed === '') return undefined;
  renewals.forget(sealed);
  return readSealedSession(await env.sealer()?.open('refresh', sealed));
}

async function revoke(env: LoginEnv, info: RequestInfo, meta: IdpMetadata, session: SealedSession | undefined): Promise<void> {
  if (session === undefined || meta.revocationEndpoint === undefined) return;
  const failed = await revokeRefreshToken(meta.revocationEndpoint, env.login, session.refreshToken, env.issuer.jwks.timeoutMs, env.deps.dispatcher);
  if (failed !== undefined) logIdpProblem(env, info, failed);
}

export async function logout(res: ServerResponse, info: RequestInfo, env: LoginEnv, browser: BrowserConfig, renewals: Renewals): Promise<void> {
  if (info.method !== 'GET' && info.method !== 'POST') {
    return refuse(res, env, info, 'browser', 'invalid_request', 'method_not_allowed', { headers: { allow: 'GET, POST' } });
  }
  const publicUrl = env.state.config.publicUrl;
  if (isForeignToLogout(info, publicUrl)) return refuse(res, env, info, 'browser', 'forbidden_origin', 'forbidden_origin');
  const cookie = env.login.cookie;
  const flows = [...parseCookies(info.headers.cookie).keys()].filter((name) => name.startsWith(FLOW_COOKIE_PREFIX));
  const cleared = [...clearAuthCookies(cookie), clearRefreshCookie(cookie), ...flows.map((name) => clearFlowCookie(cookie, name, browser.callbackPath))];

  const session = await openSession(env, info, renewals);
  const meta = await env.metadata();
  if (meta.ok) await revoke(env, info, meta.meta, session);
  const endSession = meta.ok ? meta.meta.endSessionEndpoint : undefined;
  if (endSession === undefined) {
    sendJson(res, 200, { logged_out: true }, info.requestId, { 'set-cookie': cleared });
    recordOutcome(env, info, { kind: 'browser', event: 'logout', result: 'logout', status: 200 });
    return;
  }
  const target = new URL(endSession);
  if (session?.idToken !== undefined) target.searchParams.set('id_token_hint', session.idToken);
  target.searchParams.set('client_id', env.login.clientId);
  target.searchParams.set('post_logout_redirect_uri', browser.postLogoutRedirectUri ?? `${(publicUrl ?? '').replace(/\/+$/, '')}/`);
  res.writeHead(302, {
    location: target.href,
    'set-cookie': cleared,
    'cache-control': 'no-store',
    'x-request-id': info.requestId,
    'content-length': '0',
  });
  res.end();
  recordOutcome(env, info, { kind: 'browser', event: 'logout', result: 'logout', status: 302 });
}
