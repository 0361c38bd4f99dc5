/**
 * Request-target normalisation (docs/decisions.md): the one path that route matching judges and the
 * upstream receives.
 *
 * Enforces:
 * - origin-form (`/path?query`) or absolute-form (`http(s)://authority/path`); anything else
 *   (`*`, relative paths, other schemes) is refused;
 * - no `#`, no raw control characters or spaces and no character above U+00FF anywhere in the
 *   target (Node cannot write such a path to the upstream);
 * - percent-decoding of unreserved characters only (`A-Z a-z 0-9 - . _ ~`); every other escape
 *   is kept with upper-case hex, so one resource has one spelling;
 * - refusal of encoded slashes (`%2F`), backslashes (raw or `%5C`), NUL (raw or `%00`), other
 *   encoded control characters and malformed escapes (`%zz`, a trailing `%`);
 * - refusal of `;` anywhere in the path, raw or encoded: Tomcat/Spring-style backends strip
 *   `;parameters` from segments (`/admin;x/panel` is `/admin/panel` there, and `..;` a dot
 *   segment), so the path they serve would differ from the path the sidecar judged;
 * - collapsing of `//` runs and removal of dot segments (RFC 3986 §5.2.4); climbing above `/`
 *   is refused. A trailing slash is kept as given.
 *
 * The query (from the first `?`) is returned untouched: it never takes part in routing.
 * The result is idempotent: normalising an output path again yields the same path.
 */

export type NormalizedTarget = { ok: true; path: string; query: string } | { ok: false };

const REFUSED: NormalizedTarget = { ok: false };
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * Normalises a raw request target (`req.url`, or the URI a forward-auth caller reports).
 * `query` is `''` or starts with `?`.
 */
export function normalizeTarget(rawTarget: string): NormalizedTarget {
  let target = rawTarget;
  if (!target.startsWith('/')) {
    const authority = ABSOLUTE_FORM.exec(target);
    if (authority === null) return REFUSED;
    target = target.slice(authority[0].length);
    if (!target.startsWith('/')) target = `/${target}`;
  }
  if (target.includes('#') || !isWireText(target)) return REFUSED;

  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt);

  const decoded = needsDecoding(rawPath) ? decodeUnreserved(rawPath) : rawPath;
  if (decoded === undefined) return REFUSED;
  const path = removeDotSegments(decoded);
  if (path === undefined) return REFUSED;
  return { ok: true, path, query };
}

/** Printable Latin-1 only: what Node's HTTP parser can hand over and write back out. */
function isWireText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code > 0xff) return false;
  }
  return true;
}

/** Whether decodeUnreserved would change or refuse the path: an escape, `\\`, `;` or a byte above 0x7F. */
function needsDecoding(rawPath: string): boolean {
  for (let i = 0; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i);
    if (code === 0x25 || code === 0x5c || code === 0x3b || code > 0x7f) return true;
  }
  return false;
}

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5f || // _
    code === 0x7e // ~
  );
}

function hexByte(code: number): string {
  return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

/**
 * Decodes unreserved escapes and canonicalises the rest. Returns undefined for anything refused.
 * Node hands request-line and header bytes above 0x7F over as Latin-1 characters; each becomes
 * the `%XX` of its byte, which restores the bytes on the wire in valid URI form.
 */
function decodeUnreserved(rawPath: string): string | undefined {
  let out = '';
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath.charAt(i);
    const code = rawPath.charCodeAt(i);
    if (ch === '%') {
      const hex = rawPath.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return undefined;
      const byte = Number.parseInt(hex, 16);
      // Encoded slash and backslash would split or join segments differently downstream;
      // encoded control characters (NUL, CR, LF, ...) have no place in a path.
      // An encoded `;` is a path parameter for backends that decode before parsing.
      if (byte === 0x2f || byte === 0x5c || byte === 0x3b || byte < 0x20 || byte === 0x7f) return undefined;
      out += isUnreserved(byte) ? String.fromCharCode(byte) : hexByte(byte);
      i += 2;
    } else if (ch === '\\' || ch === ';') {
      return undefined;
    } else if (code > 0x7f) {
      out += hexByte(code);
    } else {
      out += ch;
    }
  }
  return out;
}

/** Collapses empty segments and resolves `.`/`..`; undefined when the path climbs above `/`. */
function removeDotSegments(path: string): string | undefined {
  // Without an empty or a dot segment there is nothing to remove.
  if (!path.includes('//') && !path.includes('/.')) return path;
  // The path starts with '/': drop it so that every element is a real segment.
  const segments = path.slice(1).split('/');
  const kept: string[] = [];
  let trailingSlash = false;
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === '' || segment === '.') {
      trailingSlash = last;
    } else if (segment === '..') {
      if (kept.pop() === undefined) return undefined;
      trailingSlash = last;
    } else {
      kept.push(segment);
      trailingSlash = false;
    }
  }
  if (kept.length === 0) return '/';
  return `/${kept.join('/')}${trailingSlash ? '/' : ''}`;
}
