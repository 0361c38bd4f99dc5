/**
 * The forward-auth terminal (`forward_auth.path`, default `/_auth/verify`) for nginx
 * `auth_request`, Traefik ForwardAuth and Envoy ext_authz: the caller must be a trusted source
 * (by TCP peer address, never X-Forwarded-For); the original request is rebuilt from the
 * forwarded headers and judged like a proxied one; an allowed request is answered 200 with
 * the identity headers and a cache lifetime no longer than the token's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readForwardedRequest } from '../http/forwarded-request.js';
import { withoutOwnCookies } from '../identity/own-credentials.js';
import { perIdentity } from '../identity/per-identity.js';
import { decide } from '../pipeline/decide.js';
import { identityHeaders } from '../proxy/upstream-headers.js';
import { refuseWith, reject, settle } from './settle.js';
import type { Exchange, Granted } from './settle.js';

/** Longest forward-auth cache lifetime; always bounded by the token's own exp. */
const FORWARD_AUTH_MAX_AGE_SEC = 60;

/** `Cache-Control` by the seconds left (index), 0 to the maximum. */
const CACHE_CONTROL = Array.from({ length: FORWARD_AUTH_MAX_AGE_SEC + 1 }, (_, ttl) => (ttl > 0 ? `private, max-age=${ttl}` : 'no-store'));

type HeaderBlock = Readonly<Record<string, string>>;

/**
 * The answer header block of an identity (`x-request-id` and `cache-control` left to fill in),
 * built once per identity: a hit copies the block instead of deriving the identity headers again.
 */
export const answerBlock = perIdentity(
  (identity, forwardToken): HeaderBlock => ({
    'x-request-id': '',
    'content-length': '0',
    ...identityHeaders(identity, { forwardToken, tokenHeader: 'x-auth-request-access-token' }),
    'cache-control': '',
  }),
);

function answerHeaders(granted: Granted, x: Exchange, cookie: string | undefined): Record<string, string> {
  let headers: Record<string, string>;
  if (granted.outcome === 'allowed' && granted.identity) {
    headers = { ...answerBlock(granted.identity, granted.route.forwardToken) };
    headers['x-request-id'] = x.info.requestId;
    const exp = granted.identity.exp;
    const ttl = exp === undefined ? FORWARD_AUTH_MAX_AGE_SEC : Math.min(FORWARD_AUTH_MAX_AGE_SEC, Math.floor(exp - Date.now() / 1000));
    headers['cache-control'] = ttl > 0 ? CACHE_CONTROL[ttl]! : 'no-store';
  } else {
    const cacheControl = granted.outcome === 'public' ? CACHE_CONTROL[FORWARD_AUTH_MAX_AGE_SEC]! : 'no-store';
    headers = { 'x-request-id': x.info.requestId, 'content-length': '0', 'cache-control': cacheControl };
  }
  // The request's cookies without portcullis' own: Traefik (authResponseHeaders) and Envoy
  // (allowed_upstream_headers) put this Cookie header on the request before the application.
  if (cookie !== undefined) headers.cookie = withoutOwnCookies(cookie, x.state.headerPolicy.cookieName) ?? '';
  return headers;
}

export async function forwardAuth(req: IncomingMessage, res: ServerResponse, base: Exchange): Promise<void> {
  const refuse = refuseWith(res, base, req.method);
  if (!base.state.trustedSource(base.info.peerIp)) return reject(base, 'forbidden_source', refuse);
  const forwarded = readForwardedRequest(req, base.info);
  if (!forwarded.ok) return reject(base, forwarded.reason, refuse);
  const x: Exchange = { ...base, info: forwarded.info };
  await settle(x, await decide(x.info, x.state.pipeline), refuseWith(res, x, req.method, 'forward_auth'), (granted) => {
    res.writeHead(200, answerHeaders(granted, x, req.headers.cookie));
    res.end();
    return 200;
  });
}
