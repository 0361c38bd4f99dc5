/**
 * The forward-auth request parser: rebuilds the original request a front proxy asks about
 * (nginx `auth_request`, Traefik ForwardAuth, Envoy ext_authz) from `X-Forwarded-Method`,
 * `-Proto`, `-Host`, `-Uri` (Traefik, Envoy) or `X-Original-Method` / `X-Original-URI` /
 * `X-Original-URL` (nginx). The forward-auth terminal then judges it like a proxied request.
 *
 * Fail closed: a missing or unparseable original URI, an invalid path or host, or two header
 * families that disagree is a refusal, never a guess (Authelia CVE-2021-32637).
 */
import type { IncomingMessage } from 'node:http';
import { firstHeader, firstListItem } from './header-values.js';
import { isValidHost } from './request-info.js';
import type { RequestInfo } from './request-info.js';
import { normalizeTarget } from '../util/normalize-path.js';
import type { Reason } from '../errors.js';

export type ForwardedResult = { ok: true; info: RequestInfo } | { ok: false; reason: Reason };

const METHOD_RE = /^[A-Z]{1,16}$/;

/** Both header families present and saying different things: which one did the proxy set? */
function conflicting(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a !== b;
}

/** The request target (path and query, as sent) of an absolute URL. */
function targetOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/is.exec(url);
  return match ? match[1] || '/' : url;
}

/** The original request as the front proxy describes it. `base` carries id and client address. */
export function readForwardedRequest(req: IncomingMessage, base: RequestInfo): ForwardedResult {
  const h = req.headers;
  // A front proxy sets one family and passes the client's other headers on (nginx forwards a
  // client's X-Forwarded-Uri to the auth subrequest): a disagreement is refused, never resolved.
  if (
    conflicting(firstHeader(h['x-forwarded-uri']), firstHeader(h['x-original-uri'])) ||
    conflicting(firstHeader(h['x-forwarded-method']), firstHeader(h['x-original-method'])) ||
    conflicting(firstHeader(h['x-forwarded-uri']) ?? firstHeader(h['x-original-uri']), targetOf(firstHeader(h['x-original-url'])))
  ) {
    return { ok: false, reason: 'invalid_request' };
  }
  let uri = firstHeader(h['x-forwarded-uri']) ?? firstHeader(h['x-original-uri']);
  let host = firstHeader(h['x-forwarded-host']);
  let proto = firstHeader(h['x-forwarded-proto']);
  const fullUrl = firstHeader(h['x-original-url']);
  if (uri === undefined && fullUrl !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(fullUrl);
    } catch {
      return { ok: false, reason: 'invalid_request' };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: 'invalid_request' };
    // The raw URL goes to the normaliser (it reads the absolute form's path as sent); the
    // host comes from the parsed URL, never from string offsets in the raw text.
    uri = fullUrl;
    host ??= parsed.host;
    proto ??= parsed.protocol.slice(0, -1);
  }
  if (uri === undefined) return { ok: false, reason: 'invalid_request' };
  const target = normalizeTarget(uri);
  if (!target.ok) return { ok: false, reason: 'invalid_path' };

  host = firstListItem(host ?? h.host);
  if (host === undefined || !isValidHost(host)) return { ok: false, reason: 'invalid_request' };
  const method = (firstHeader(h['x-forwarded-method']) ?? firstHeader(h['x-original-method']) ?? req.method ?? 'GET')
    .trim()
    .toUpperCase();
  if (!METHOD_RE.test(method)) return { ok: false, reason: 'invalid_request' };
  // An empty X-Forwarded-Proto is refused below, never read as the default.
  const scheme = proto === undefined ? 'http' : (firstListItem(proto) ?? '').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, reason: 'invalid_request' };

  return {
    ok: true,
    info: {
      requestId: base.requestId,
      method,
      host,
      path: target.path,
      query: target.query,
      headers: req.headers,
      clientIp: base.clientIp,
      peerIp: base.peerIp,
      trustedPeer: base.trustedPeer,
      proto: scheme,
    },
  };
}
