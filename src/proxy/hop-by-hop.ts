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
  const lower = name.toLowerCase();
  return lower.includes('_') ? lower.replaceAll('_', '-') : lower;
}

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'proxy-authorization', 'http2-settings',
]);

/** Nobody may remove these by naming them in `Connection`: the message framing depends on them. */
const FRAMING = new Set(['host', 'content-length']);

const NONE: readonly string[] = Object.freeze([]);

/**
 * Token lists by `Connection` value. The values seen in practice are a handful
 * (`keep-alive`, `close`, `upgrade`), so each is split once; the map is bounded, so a client
 * sending ever-new values costs a split per request, never memory.
 */
const listed = new Map<string, readonly string[]>();
const LISTED_MAX = 256;

function splitTokens(list: string): readonly string[] {
  const tokens: string[] = [];
  for (const raw of list.split(',')) {
    const token = normalizeHeaderName(raw.trim());
    // The fixed hop-by-hop names are dropped anyway; only the others need a look-up.
    if (token !== '' && !FRAMING.has(token) && !HOP_BY_HOP.has(token) && !tokens.includes(token)) tokens.push(token);
  }
  return tokens.length === 0 ? NONE : Object.freeze(tokens);
}

/**
 * The (normalised) field names a `Connection` header lists beyond the fixed hop-by-hop set,
 * framing fields left out: what `isHopByHop` needs besides `HOP_BY_HOP`.
 */
export function connectionTokens(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return NONE;
  const list = typeof value === 'string' ? value : value.join(',');
  let tokens = listed.get(list);
  if (tokens === undefined) {
    tokens = splitTokens(list);
    if (listed.size < LISTED_MAX) listed.set(list, tokens);
  }
  return tokens;
}

/** Whether a (normalised) field name stays on this hop, given the `Connection` tokens. */
export function isHopByHop(name: string, named: readonly string[]): boolean {
  return HOP_BY_HOP.has(name) || (named.length !== 0 && named.includes(name));
}
