/**
 * The `Set-Cookie` values portcullis writes (docs/login.md; docs/security.md, "Browser login").
 *
 * Enforces, as exact strings:
 * - auth cookie: `<name>=<token>; HttpOnly[; Secure]; SameSite=<same_site>; Path=/[; Domain=…]; Max-Age=<s>`,
 *   a long token split into `<name>_1`, `<name>_2`, … with the same attributes (cookie-chunks.ts),
 *   and every chunk name beyond the new count cleared: the request that sets the cookie (the
 *   callback, a cross-site navigation) does not show which Strict chunks the browser holds;
 * - refresh cookie `<name>_refresh`: sealed value, HttpOnly, SameSite=Strict, Path=/, the
 *   auth cookie's Secure and Domain, Max-Age = cookie.max_age;
 * - flow cookie `portcullis_flow_<first 8 chars of state>`: HttpOnly, SameSite=Lax (a Strict
 *   state cookie would be missing on the IdP's redirect back, oauth2-proxy#1663), Path = the
 *   callback path, host-only, Max-Age=600;
 * - clearing: the same Path and Domain with an empty value, Max-Age=0 and an Expires in the
 *   past, so every browser drops it.
 */
import type { CookieSettings } from '../config/types.js';
import { chunkName, MAX_CHUNKS, splitValue } from '../http/cookie-chunks.js';

import { FLOW_COOKIE_PREFIX } from '../identity/own-credentials.js';

export { FLOW_COOKIE_PREFIX };
export const FLOW_TTL_SEC = 600;
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT';

interface CookieAttributes {
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax' | 'None';
  readonly path: string;
  readonly domain: string | undefined;
}

function build(name: string, value: string, attrs: CookieAttributes, maxAgeSec: number): string {
  const parts = [`${name}=${value}`, 'HttpOnly'];
  if (attrs.secure) parts.push('Secure');
  parts.push(`SameSite=${attrs.sameSite}`, `Path=${attrs.path}`);
  if (attrs.domain !== undefined) parts.push(`Domain=${attrs.domain}`);
  parts.push(`Max-Age=${Math.max(0, Math.floor(maxAgeSec))}`);
  if (maxAgeSec <= 0) parts.push(`Expires=${EPOCH}`);
  return parts.join('; ');
}

const authAttrs = (c: CookieSettings): CookieAttributes => ({ secure: c.secure, sameSite: c.sameSite, path: '/', domain: c.domain });
const refreshAttrs = (c: CookieSettings): CookieAttributes => ({ secure: c.secure, sameSite: 'Strict', path: '/', domain: c.domain });
const flowAttrs = (c: CookieSettings, callbackPath: string): CookieAttributes => ({
  secure: c.secure,
  sameSite: 'Lax',
  path: callbackPath,
  domain: undefined,
});

export const refreshCookieName = (c: CookieSettings): string => `${c.name}_refresh`;
export const flowCookieName = (state: string): string => `${FLOW_COOKIE_PREFIX}${state.slice(0, 8)}`;

/**
 * The auth cookie and its chunks, then the clearing of every other chunk name; undefined when
 * the token is too long even for MAX_CHUNKS chunks. Max-Age: the configured maximum, capped by
 * the token's own lifetime.
 */
export function authCookies(c: CookieSettings, token: string, expiresInSec: number): string[] | undefined {
  const chunks = splitValue(token);
  if (chunks === undefined) return undefined;
  const maxAge = Math.min(c.maxAgeSec, expiresInSec);
  const cleared = Array.from({ length: MAX_CHUNKS - chunks.length }, (_, i) => build(chunkName(c.name, chunks.length + i), '', authAttrs(c), 0));
  return [...chunks.map((value, i) => build(chunkName(c.name, i), value, authAttrs(c), maxAge)), ...cleared];
}

export function refreshCookie(c: CookieSettings, sealed: string): string {
  return build(refreshCookieName(c), sealed, refreshAttrs(c), c.maxAgeSec);
}

export function flowCookie(c: CookieSettings, state: string, sealed: string, callbackPath: string): string {
  return build(flowCookieName(state), sealed, flowAttrs(c, callbackPath), FLOW_TTL_SEC);
}

/** Clears the auth cookie and every chunk name it could have. */
export function clearAuthCookies(c: CookieSettings): string[] {
  return Array.from({ length: MAX_CHUNKS }, (_, i) => build(chunkName(c.name, i), '', authAttrs(c), 0));
}

export function clearRefreshCookie(c: CookieSettings): string {
  return build(refreshCookieName(c), '', refreshAttrs(c), 0);
}

export function clearFlowCookie(c: CookieSettings, name: string, callbackPath: string): string {
  return build(name, '', flowAttrs(c, callbackPath), 0);
}
