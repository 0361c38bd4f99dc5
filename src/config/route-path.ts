/**
 * A route's `match.path` goes through the same normaliser as request paths (normalize-path.ts),
 * so a prefix written `/café` or `/%7Euser` is the prefix requests arrive with
 * (`/caf%C3%A9`, `/~user`). Non-ASCII text is taken as its UTF-8 bytes, which is what a client
 * sends on the wire.
 *
 * Refused, with the form to write when there is one: dot segments (the request path never has
 * them, so the route would never match); `;`, `%2F`, `%5C`, `\` and NUL (every request holding
 * them is refused, so the route would never match); `?`, `#`, spaces and controls (not part of
 * a path).
 */
import { normalizeTarget } from '../util/normalize-path.js';

export type RoutePath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly message: string };

const NEVER_SENT = /;|%3B|%2F|%5C|\\|%00|\0/i;
const NOT_A_PATH = /[?#\s\p{Cc}]/u;

function isDotSegment(segment: string): boolean {
  const s = segment.replace(/%2E/gi, '.');
  return s === '.' || s === '..';
}

/** The normal form of a route path, or why it cannot have one. `raw` starts with `/`. */
export function normalizeRoutePath(raw: string): RoutePath {
  if (NOT_A_PATH.test(raw)) return { ok: false, message: 'must be a path without "?", "#", spaces or control characters; write e.g. /api' };
  if (NEVER_SENT.test(raw)) {
    return { ok: false, message: 'holds ";", "%2F", "%5C", "\\" or NUL, and requests holding them are refused, so the route would never match; remove them' };
  }
  const normal = normalizeTarget(Buffer.from(raw, 'utf8').toString('latin1'));
  if (!normal.ok) return { ok: false, message: 'holds a malformed "%" escape or climbs above "/"; write the path without them' };
  if (raw.split('/').some(isDotSegment)) {
    return { ok: false, message: `holds "." or ".." segments, which requests never have; write ${normal.path}` };
  }
  return { ok: true, path: normal.path };
}
