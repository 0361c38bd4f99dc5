/**
 * Password login (docs/login.md): `POST login.password.path` runs the resource-owner password grant
 * at the IdP and answers the verified token and identity.
 *
 * Order of checks, each refusing before the next costs anything: method (405 + Allow);
 * with `?cookie=true`, the login-CSRF origin check (403, nothing read, no IdP call); body
 * (content type, 16 KiB cap, fields: 400/413); rate limit per lower-cased username and per
 * client address (429 + Retry-After, no IdP call; 503 `rate_limit_unavailable` when a cluster
 * worker cannot reach the shared count); IdP metadata and grant. Wrong password and
 * unknown user are the same 401 `invalid_grant` and count as failures; an unreachable or
 * failing IdP is 503 `auth_unavailable`; an IdP refusing the client (misconfiguration) is 503
 * plus an operational log line. The returned access token must pass the verifier; a success
 * answers `Cache-Control: no-store` and, with `?cookie=true`, sets the auth cookie (and the
 * sealed refresh cookie when the IdP sent a refresh token and a cookie_secret is set).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from '../http/request-info.js';
import { sendJson } from '../http/respond.js';
import { readLoginBody } from './body.js';
import { logIdpProblem, recordOutcome, refuse } from './context.js';
import type { LoginEnv } from './context.js';
import { tokenRequest } from './idp-client.js';
import { isCrossSite } from './origin.js';
import { sessionCookies, verifySession } from './session.js';

export async function passwordLogin(req: IncomingMessage, res: ServerResponse, info: RequestInfo, env: LoginEnv): Promise<void> {
  const fail = (result: string, reason: Parameters<typeof refuse>[5], extra?: Parameters<typeof refuse>[6]): void =>
    refuse(res, env, info, 'password', result, reason, extra);

  if (info.method !== 'POST') return fail('invalid_request', 'method_not_allowed', { headers: { allow: 'POST' } });
  const wantsCookie = new URLSearchParams(info.query).get('cookie') === 'true';
  if (wantsCookie && isCrossSite(info, env.state.config.publicUrl)) return fail('invalid_request', 'forbidden_origin');

  const body = await readLoginBody(req);
  if (!body.ok) {
    // An unread rest of an oversized body is not drained: the connection closes after the answer.
    return fail('invalid_request', body.reason, body.reason === 'payload_too_large' ? { headers: { connection: 'close' } } : {});
  }
  const userKey = `user:${body.username.toLowerCase()}`;
  const keys = [userKey, `ip:${info.clientIp}`];
  const admission = await env.throttle.admit(keys, env.login.rateLimit);
  if (!admission.ok) {
    return admission.reason === 'rate_limited'
      ? fail('rate_limited', 'rate_limited', { retryAfterSec: admission.retryAfterSec })
      : fail('error', 'rate_limit_unavailable');
  }

  let grant: Awaited<ReturnType<typeof tokenRequest>> | undefined;
  try {
    const meta = await env.metadata();
    if (!meta.ok) {
      logIdpProblem(env, info, meta.code);
      return fail('error', 'auth_unavailable');
    }
    grant = await tokenRequest(
      meta.meta,
      env.login,
      { grant_type: 'password', username: body.username, password: body.password, scope: env.login.scopes.join(' ') },
      env.issuer.jwks.timeoutMs,
      env.deps.dispatcher,
    );
  } finally {
    admission.done(grant !== undefined && !grant.ok && grant.kind === 'invalid_grant');
  }
  if (!grant.ok) {
    if (grant.kind === 'invalid_grant') return fail('invalid_grant', 'invalid_grant');
    if (grant.kind === 'rejected') logIdpProblem(env, info, grant.code);
    return fail('error', 'auth_unavailable');
  }

  const verified = await verifySession(env, grant.tokens);
  if (!verified.ok) return fail('error', verified.reason);
  const { session } = verified;
  env.throttle.forget(userKey);
  const cookies = wantsCookie ? await sessionCookies(env, session, grant.tokens) : [];
  if (cookies === undefined) {
    logIdpProblem(env, info, 'token_too_long');
    return fail('error', 'auth_unavailable');
  }
  const headers: Record<string, string[]> = wantsCookie ? { 'set-cookie': cookies } : {};
  const id = session.identity;
  sendJson(
    res,
    200,
    {
      uuid: id.user,
      email: id.email ?? null,
      username: id.username ?? null,
      groups: id.groups,
      roles: id.roles,
      auth_token: { access_token: session.accessToken, expires_in: session.expiresIn, token_type: 'Bearer' },
    },
    info.requestId,
    headers,
  );
  recordOutcome(env, info, { kind: 'password', result: 'success', user: id.user, token: session.fingerprint, status: 200 });
}
