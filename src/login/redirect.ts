/**
 * Validation of the post-login redirect target `rd` (docs/security.md, "Headers and paths";
 * oauth2-proxy CVE-2020-5233, CVE-2020-11053, CVE-2021-21291).
 *
 * Accepts only:
 * - a path on this site: starts with exactly one `/`, and neither the path as given nor the
 *   path after percent-decoding holds `//`, `/ /` or a `.`/`..` segment (browsers and
 *   frameworks that decode or normalise could otherwise turn it into `//evil.example`); or
 * - an absolute `http://` / `https://` URL without userinfo whose host is `public_url`'s host
 *   or matches `allowedHosts` (exact names; `.example.com` and `*.example.com` allow real
 *   subdomains only, never `example.com` itself).
 *
 * Ports: the `public_url` host is allowed on `public_url`'s own (effective) port; an allow-list
 * entry without a port allows the scheme's default port only; a `host:port` entry allows exactly
 * that port (also for `public_url`'s host). Another port is another origin, often another
 * service.
 *
 * Everywhere, before and after full percent-decoding: no backslash (browsers read `\` as `/`),
 * no control character (tab, CR, LF, NUL, ...); the raw value is printable ASCII. Values
 * over 2048 characters, other schemes (`javascript:`, `data:`, ...), scheme-relative
 * `//host` and percent-encoding nested more than four levels deep are refused.
 */

import { hostMatches } from '../pipeline/match-route.js';

export interface RedirectOptions {
  readonly publicUrl: string | undefined;
  readonly allowedHosts: readonly string[];
}

const MAX_LENGTH = 2048;
const MAX_DECODE_ROUNDS = 4;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const HAS_ESCAPE = /%[0-9A-Fa-f]{2}/;
const HTTP_PREFIX = /^https?:\/\//i;
const DOUBLE_SLASH = /\/\s*\//;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** Decodes `%XX` escapes again and again, at most MAX_DECODE_ROUNDS times. */
function fullyDecode(text: string): string {
  let current = text;
  for (let round = 0; round < MAX_DECODE_ROUNDS && HAS_ESCAPE.test(current); round++) {
    current = current.replace(ESCAPE, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  }
  return current;
}

/** ASCII control characters and backslash: never part of a redirect, encoded or not. */
function hasControlOrBackslash(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

/**
 * The raw value must be printable ASCII without spaces: no whitespace of any kind can hide in
 * it, and it can go into a `Location` header as given (Node refuses other characters there).
 */
function hasRawForbidden(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || code === 0x5c) return true;
  }
  return false;
}

function isSafePath(rd: string): boolean {
  if (rd.charAt(1) === '/') return false;
  const end = rd.search(/[?#]/);
  const rawPath = end === -1 ? rd : rd.slice(0, end);
  return [rawPath, fullyDecode(rawPath)].every((path) => !DOUBLE_SLASH.test(path) && !DOT_SEGMENT.test(path));
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function effectivePort(url: URL): string {
  if (url.port !== '') return url.port;
  return url.protocol === 'https:' ? '443' : '80';
}

/** Splits an allow-list entry into a host pattern for `hostMatches` and an optional port. */
function parseAllowed(entry: string): { pattern: string; port: string | undefined } {
  const lower = entry.trim().toLowerCase();
  const hostEnd = lower.startsWith('[') ? lower.indexOf(']') + 1 : lower.lastIndexOf(':');
  const hasPort = hostEnd > 0 && lower.charAt(hostEnd) === ':';
  const host = hasPort ? lower.slice(0, hostEnd) : lower;
  const port = hasPort ? lower.slice(hostEnd + 1) : undefined;
  return { pattern: host.startsWith('.') ? `*${host}` : host, port };
}

function isAllowedHost(url: URL, opts: RedirectOptions): boolean {
  const publicUrl = opts.publicUrl === undefined ? undefined : parseUrl(opts.publicUrl);
  if (
    publicUrl !== undefined &&
    hostMatches(publicUrl.hostname, url.hostname) &&
    effectivePort(url) === effectivePort(publicUrl)
  ) {
    return true;
  }
  return opts.allowedHosts.some((entry) => {
    const { pattern, port } = parseAllowed(entry);
    if (!hostMatches(pattern, url.hostname)) return false;
    return port === undefined ? url.port === '' : effectivePort(url) === port;
  });
}

function safeAbsolute(rd: string, opts: RedirectOptions): string | undefined {
  const scheme = HTTP_PREFIX.exec(rd);
  if (scheme === null) return undefined;
  const rest = rd.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  // Any '@' in the authority means userinfo (`https://app.example.com@evil.com`): refused, even empty.
  if (authority.includes('@')) return undefined;
  const url = parseUrl(rd);
  return url !== undefined && isAllowedHost(url, opts) ? url.href : undefined;
}

/**
 * The target to redirect to after login, or undefined when `rd` is missing or refused.
 * A path is returned as given; an absolute URL in its normalised (WHATWG) form.
 */
export function safeRedirect(rd: string | undefined, opts: RedirectOptions): string | undefined {
  if (rd === undefined || rd === '' || rd.length > MAX_LENGTH) return undefined;
  const decoded = fullyDecode(rd);
  // An escape left after the last round means encoding nested deeper than anyone legitimate does.
  if (HAS_ESCAPE.test(decoded) || hasRawForbidden(rd) || hasControlOrBackslash(decoded)) return undefined;
  if (rd.startsWith('/')) return isSafePath(rd) ? rd : undefined;
  return safeAbsolute(rd, opts);
}
