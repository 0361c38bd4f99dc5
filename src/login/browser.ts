/**
 * Browser login through the authorization-code flow with PKCE (docs/login.md; docs/security.md,
 * "Browser login").
 *
 * Start (`GET start_path?rd=`): `rd` must pass `safeRedirect` (missing: `/`); fresh state,
 * nonce and PKCE verifier (32 random bytes each) are sealed with `rd` into a per-flow Lax
 * cookie scoped to the callback path; an existing auth or refresh cookie is cleared (session
 * fixation); 302 to the IdP with an S256 challenge.
 *
 * Callback (`GET callback_path?code&state[&iss]`): the flow cookie named after `state` must
 * open (not tampered, not older than 10 minutes) and hold that same state, else 400
 * `invalid_state` before the IdP is asked anything; an `iss` parameter must be the issuer
 * (RFC 9207); `error=access_denied` (the person cancelled) is 401 `login_cancelled` ("login
 * cancelled" with a link that starts again for the same `rd`), any other `error` is 401
 * `invalid_grant`; the code is exchanged once with
 * the sealed verifier; the ID token's signature, claims and nonce, and the access token, are
 * verified. The flow cookie is cleared in every answer, so a replayed callback finds none.
 * Success sets the auth and refresh cookies and answers 200 HTML that moves the browser to
 * `rd` from this origin, not a 302: the Strict cookie would be missing on a navigation that
 * started at the IdP (aspnet/Security#1231).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { escapeHtml } from '../http/html-error.js';
import type { RequestInfo } from '../http/request-info.js';
import { parseCookies } from '../http/cookies.js';
import { logIdpProblem, recordOutcome, refuse } from './context.js';
import type { LoginEnv } from './context.js';
import { clearAuthCookies, clearFlowCookie, clearRefreshCookie, flowCookie, flowCookieName, FLOW_TTL_SEC } from './cookies-out.js';
import { checkIdToken } from './id-token.js';
import { tokenRequest } from './idp-client.js';
import { safeRedirect } from './redirect.js';
import { sessionCookies, verifySession } from './session.js';

type BrowserConfig = NonNullable<LoginEnv['login']['browser']>;

const random = (): string => randomBytes(32).toString('base64url');
const STATE_RE = /^[A-Za-z0-9_-]{43}$/;

function redirectUri(env: LoginEnv, browser: BrowserConfig): string {
  return `${(env.state.config.publicUrl ?? '').replace(/\/+$/, '')}${browser.callbackPath}`;
}

function sendHead(res: ServerResponse, status: number, info: RequestInfo, headers: Record<string, string | string[]>): void {
  res.writeHead(status, { 'cache-control': 'no-store', 'x-request-id': info.requestId, 'content-length': '0', ...headers });
  res.end();
}

export async function startLogin(res: ServerResponse, info: RequestInfo, env: LoginEnv, browser: BrowserConfig): Promise<void> {
  if (info.method !== 'GET') return refuse(res, env, info, 'browser', 'invalid_request', 'method_not_allowed', { headers: { allow: 'GET' } });
  const rdParam = new URLSearchParams(info.query).get('rd');
  const rd = rdParam === null ? '/' : safeRedirect(rdParam, { publicUrl: env.state.config.publicUrl, allowedHosts: browser.allowedRedirectHosts });
  if (rd === undefined) return refuse(res, env, info, 'browser', 'invalid_redirect', 'invalid_redirect');
  const sealer = env.sealer();
  const meta = await env.metadata();
  if (sealer === undefined || !meta.ok || meta.meta.authorizationEndpoint === undefined) {
    logIdpProblem(env, info, meta.ok ? 'no_authorization_endpoint' : meta.code);
    return refuse(res, env, info, 'browser', 'error', 'auth_unavailable');
  }
  const state = random();
  const nonce = random();
  const verifier = random();
  const sealed = await sealer.seal('flow', { state, nonce, verifier, rd }, FLOW_TTL_SEC);
  const target = new URL(meta.meta.authorizationEndpoint);
  const params = {
    response_type: 'code',
    client_id: env.login.clientId,
    redirect_uri: redirectUri(env, browser),
    scope: env.login.scopes.join(' '),
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  const cookie = env.login.cookie;
  sendHead(res, 302, info, {
    location: target.href,
    'set-cookie': [flowCookie(cookie, state, sealed, browser.callbackPath), ...clearAuthCookies(cookie), clearRefreshCookie(cookie)],
  });
}

interface Flow {
  readonly nonce: string;
  readonly verifier: string;
  readonly rd: string;
}

async function openFlow(env: LoginEnv, cookieValue: string | undefined, state: string): Promise<Flow | undefined> {
  if (cookieValue === undefined) return undefined;
  const payload = await env.sealer()?.open('flow', cookieValue);
  if (payload === undefined) return undefined;
  const { state: sealedState, nonce, verifier, rd } = payload;
  if (typeof sealedState !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string' || typeof rd !== 'string') return undefined;
  const a = Buffer.from(sealedState);
  const b = Buffer.from(state);
  return a.length === b.length && timingSafeEqual(a, b) ? { nonce, verifier, rd } : undefined;
}


export function continuePage(rd: string): string {
  const href = escapeHtml(rd);
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>Signed in</title></head><body><p>Signed in. <a href="${href}">Continue</a></p></body></html>`;
}

export async function callback(res: ServerResponse, info: RequestInfo, env: LoginEnv, browser: BrowserConfig): Promise<void> {
  const fail = (result: string, reason: Parameters<typeof refuse>[5]): void => refuse(res, env, info, 'browser', result, reason);
  if (info.method !== 'GET') return refuse(res, env, info, 'browser', 'invalid_request', 'method_not_allowed', { headers: { allow: 'GET' } });
  const query = new URLSearchParams(info.query);
  const state = query.get('state') ?? '';
  if (!STATE_RE.test(state)) return fail('invalid_state', 'invalid_state');
  const name = flowCookieName(state);
  res.setHeader('set-cookie', [clearFlowCookie(env.login.cookie, name, browser.callbackPath)]);

  const flow = await openFlow(env, parseCookies(info.headers.cookie).get(name), state);
  if (flow === undefined) return fail('invalid_state', 'invalid_state');
  const iss = query.get('iss');
  if (iss !== null && iss !== env.issuer.issuer) return fail('invalid_state', 'invalid_state');
  // A person who pressed "Cancel" at the IdP is told so, with a way to start again.
  const idpError = query.get('error');
  if (idpError === 'access_denied') return refuse(res, env, info, 'browser', 'cancelled', 'login_cancelled', { rd: flow.rd });
  if (idpError !== null) return fail('invalid_grant', 'invalid_grant');
  const code = query.get('code');
  if (code === null || code === '') return fail('invalid_request', 'invalid_request');

  const meta = await env.metadata();
  if (!meta.ok) {
    logIdpProblem(env, info, meta.code);
    return fail('error', 'auth_unavailable');
  }
  const grant = await tokenRequest(
    meta.meta,
    env.login,
    { grant_type: 'authorization_code', code, redirect_uri: redirectUri(env, browser), code_verifier: flow.verifier },
    env.issuer.jwks.timeoutMs,
    env.deps.dispatcher,
  );
  if (!grant.ok) {
    if (grant.kind === 'invalid_grant') return fail('invalid_grant', 'invalid_grant');
    if (grant.kind === 'rejected') logIdpProblem(env, info, grant.code);
    return fail('error', 'auth_unavailable');
  }
  if (grant.tokens.idToken === undefined) return fail('error', 'malformed');
  const idToken = await checkIdToken(env, grant.tokens.idToken, flow.nonce, grant.tokens.accessToken);
  if (!idToken.ok) return fail(idToken.reason === 'invalid_state' ? 'invalid_state' : 'error', idToken.reason);
  const verified = await verifySession(env, grant.tokens);
  if (!verified.ok) return fail('error', verified.reason);
  const { session } = verified;
  // Both tokens must name the same user, or an IdP mix-up would log in someone else.
  if (session.identity.claims.sub !== idToken.sub) return fail('error', 'invalid_state');

  const cookies = await sessionCookies(env, session, grant.tokens);
  if (cookies === undefined) {
    logIdpProblem(env, info, 'token_too_long');
    return fail('error', 'auth_unavailable');
  }
  res.appendHeader('set-cookie', cookies);
  const body = continuePage(flow.rd);
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'",
    'referrer-policy': 'no-referrer',
    'x-request-id': info.requestId,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
  recordOutcome(env, info, { kind: 'browser', result: 'success', user: session.identity.user, token: session.fingerprint, status: 200 });
}
