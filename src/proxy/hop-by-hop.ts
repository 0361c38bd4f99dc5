/**
 * Hop-by-hop headers: they describe one connection, so a proxy never passes them on, in either
 * direction. The set is RFC 9110 §7.6.1's (`Connection`, `Proxy-Connection`, `Keep-Alive`, `TE`,
 * `Transfer-Encoding`, `Upgrade`), plus the fields that are only meaningful to the next hop:
 * `Trailer` (a re-framed body carries no trailers), `Proxy-Authenticate`, `Proxy-Authorization`
 * and `HTTP2-Settings` (RFC 9113 §3.2.1, listed in `Connection` when sent). Every field the
 * `Connection` header names is hop-by-hop too, except the framing fields below.
 */

/** Lower-case with `_` read as `-`: how WSGI, PHP and CGI upstreams see a header name. */
export function normalizeHeaderName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'proxy-authorization', 'http2-settings',
]);

/** Nobody may remove these by naming them in `Connection`: the message framing depends on them. */
const FRAMING = new Set(['host', 'content-length']);

/** The (normalised) field names a `Connection` header lists, framing fields left out. */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const list = Array.isArray(value) ? value.join(',') : (value ?? '');
  const tokens = list.split(',').map((token) => normalizeHeaderName(token.trim()));
  return new Set(tokens.filter((token) => token !== '' && !FRAMING.has(token)));
}

/** Whether a (normalised) field name stays on this hop, given the `Connection` tokens. */
export function isHopByHop(name: string, named: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || named.has(name);
}
