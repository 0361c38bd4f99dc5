/**
 * What the proxy port knows about a request, read once: the request id, the normalised path
 * (SPEC §5), host, client address and scheme. On the proxy port `X-Forwarded-*` and
 * `X-Original-*` never steer a decision unless `trust_forwarded_headers` is on
 * (oauth2-proxy CVE-2026-40575, Envoy CVE-2023-27487).
 */
import type { IncomingMessage } from 'node:http';
import type { AuthRequest } from '../authn/types.js';
import { firstListItem, unmapIPv4 } from './header-values.js';
import { normalizeTarget } from './normalize-path.js';
import { requestIdFrom } from './request-id.js';

export interface RequestInfo extends AuthRequest {
  readonly proto: 'http' | 'https';
}

export type RequestInfoResult =
  | { readonly ok: true; readonly info: RequestInfo }
  | {
      readonly ok: false;
      /** What is known of the refused request, for the audit line (path as sent, no query). */
      readonly info: RequestInfo;
      readonly reason: 'invalid_path' | 'invalid_request' | 'bad_scheme';
    };

/** Host header values we accept: a hostname or IP literal with an optional port. */
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9-]{1,63})*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The first address of an X-Forwarded-For list, when it is an IP literal. */
function forwardedFor(value: string | string[] | undefined): string | undefined {
  const first = firstListItem(value);
  return first && /^[0-9a-f:.]+$/i.test(first) ? first : undefined;
}

/** Occurrences of a header in the raw list (names at even indexes); cheaper than headersDistinct. */
function countHeader(raw: readonly string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) n += 1;
  }
  return n;
}

export function isValidHost(host: string): boolean {
  return host.length <= 261 && HOST_RE.test(host);
}

export function readRequestInfo(req: IncomingMessage, trustForwarded: boolean): RequestInfoResult {
  const requestId = requestIdFrom(req.headers['x-request-id']);
  const target = normalizeTarget(req.url ?? '');

  const socketIp = req.socket.remoteAddress ?? '';
  let host = req.headers.host ?? '';
  let proto: 'http' | 'https' = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  let clientIp = unmapIPv4(socketIp);
  if (trustForwarded) {
    const fwdHost = firstListItem(req.headers['x-forwarded-host']);
    if (fwdHost) host = fwdHost;
    const fwdProto = firstListItem(req.headers['x-forwarded-proto'])?.toLowerCase();
    if (fwdProto === 'http' || fwdProto === 'https') proto = fwdProto;
    clientIp = forwardedFor(req.headers['x-forwarded-for']) ?? clientIp;
  }
  const info: RequestInfo = {
    requestId,
    method: req.method ?? 'GET',
    host,
    path: target.ok ? target.path : (req.url ?? '').split('?')[0]!.slice(0, 1024),
    query: target.ok ? target.query : '',
    headers: req.headers,
    clientIp,
    proto,
  };
  if (!target.ok) return { ok: false, info, reason: 'invalid_path' };
  if (host !== '' && !isValidHost(host)) return { ok: false, info, reason: 'invalid_request' };
  // Node keeps only the first of several Authorization headers; which one a later hop would
  // read is anybody's guess, so the request is refused outright.
  if (req.headers.authorization !== undefined && countHeader(req.rawHeaders, 'authorization') > 1) {
    return { ok: false, info, reason: 'bad_scheme' };
  }
  return { ok: true, info };
}
