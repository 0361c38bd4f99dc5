/**
 * What the proxy port knows about a request, read once: the request id, the normalised path
 * (docs/decisions.md), host, client address and scheme. On the proxy port `X-Forwarded-*` and
 * `X-Original-*` never steer a decision unless the TCP peer is a trusted proxy
 * (client-address.ts; oauth2-proxy CVE-2026-40575, Envoy CVE-2023-27487).
 */
import type { IncomingMessage } from 'node:http';
import type { AuthRequest } from '../authn/types.js';
import { clientAddress } from './client-address.js';
import type { ForwardTrust } from './client-address.js';
import { firstListItem } from './header-values.js';
import { normalizeTarget } from '../util/normalize-path.js';
import { requestIdFrom } from './request-id.js';

export interface RequestInfo extends AuthRequest {
  readonly proto: 'http' | 'https';
  /** The TCP peer (`clientIp` is the client behind trusted proxies). */
  readonly peerIp: string;
  /** The peer is a trusted proxy: its X-Forwarded-* were believed. */
  readonly trustedPeer: boolean;
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

export function readRequestInfo(req: IncomingMessage, trust: ForwardTrust): RequestInfoResult {
  const requestId = requestIdFrom(req.headers['x-request-id']);
  const target = normalizeTarget(req.url ?? '');

  const { clientIp, peerIp, trustedPeer } = clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], trust);
  let host = req.headers.host ?? '';
  let proto: 'http' | 'https' = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  if (trustedPeer) {
    const fwdHost = firstListItem(req.headers['x-forwarded-host']);
    if (fwdHost) host = fwdHost;
    const fwdProto = firstListItem(req.headers['x-forwarded-proto'])?.toLowerCase();
    if (fwdProto === 'http' || fwdProto === 'https') proto = fwdProto;
  }
  const info: RequestInfo = {
    requestId,
    method: req.method ?? 'GET',
    host,
    path: target.ok ? target.path : (req.url ?? '').split('?')[0]!.slice(0, 1024),
    query: target.ok ? target.query : '',
    headers: req.headers,
    clientIp,
    peerIp,
    trustedPeer,
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
