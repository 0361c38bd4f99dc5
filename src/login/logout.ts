/**
 * Logout (`GET`/`POST logout_path`, docs/login.md): clears the auth cookie, the refresh cookie and
 * every flow cookie the request carries (same Path and Domain as when set, Max-Age=0 and an
 * Expires in the past); then 302 to the IdP's end-session endpoint with `client_id` and
 * `post_logout_redirect_uri` = public_url + `/` when discovery names one, else 200
 * `{"logged_out": true}`. Logout never depends on the IdP being up: without metadata it still
 * clears the cookies and answers 200. Audited as event `logout`.
 */
import type { ServerResponse } from 'node:http';
import { parseCookies } from '../http/cookies.js';
import type { RequestInfo } from '../http/request-info.js';
import { sendJson } from '../http/respond.js';
import { recordOutcome, refuse } from './context.js';
import type { LoginEnv } from './context.js';
import { clearAuthCookie, clearFlowCookie, clearRefreshCookie, FLOW_COOKIE_PREFIX } from './cookies-out.js';

type BrowserConfig = NonNullable<LoginEnv['login']['browser']>;

export async function logout(res: ServerResponse, info: RequestInfo, env: LoginEnv, browser: BrowserConfig): Promise<void> {
  if (info.method !== 'GET' && info.method !== 'POST') {
    return refuse(res, env, info, 'browser', 'invalid_request', 'method_not_allowed', { headers: { allow: 'GET, POST' } });
  }
  const cookie = env.login.cookie;
  const flows = [...parseCookies(info.headers.cookie).keys()].filter((name) => name.startsWith(FLOW_COOKIE_PREFIX));
  const cleared = [clearAuthCookie(cookie), clearRefreshCookie(cookie), ...flows.map((name) => clearFlowCookie(cookie, name, browser.callbackPath))];

  const meta = await env.metadata();
  const endSession = meta.ok ? meta.meta.endSessionEndpoint : undefined;
  if (endSession === undefined) {
    sendJson(res, 200, { logged_out: true }, info.requestId, { 'set-cookie': cleared });
    recordOutcome(env, info, { kind: 'browser', event: 'logout', result: 'logout', status: 200 });
    return;
  }
  const target = new URL(endSession);
  target.searchParams.set('client_id', env.login.clientId);
  target.searchParams.set('post_logout_redirect_uri', `${(env.state.config.publicUrl ?? '').replace(/\/+$/, '')}/`);
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
