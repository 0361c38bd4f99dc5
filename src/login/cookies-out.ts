/**
 * The `Set-Cookie` values portcullis writes (docs/login.md; docs/security.md, "Browser login").
 *
 * Enforces, as exact strings:
 * - auth cookie: `<name>=<token>; HttpOnly[; Secure]; SameSite=<same_site>; Path=/[; Domain=…]; Max-Age=<s>`;
 * - refresh cookie `<name>_refresh`: sealed value, HttpOnly, SameSite=Strict, Path=/, the
 *   auth cookie's Secure and Domain, Max-Age = cookie.max_age;
 * - flow cookie `portcullis_flow_<first 8 chars of state>`: HttpOnly, SameSite=Lax (a Strict
 *   state cookie would be missing on the IdP's redirect back, oauth2-proxy#1663), Path = the
 *   callback path, host-only, Max-Age=600;
 * - clearing: the same Path and Domain with an empty value, Max-Age=0 and an Expires in the
 *   past, so every browser drops it.
 */
import type { CookieSettings } from '../config/types.js';

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

/** Max-Age of the auth cookie: the configured maximum, capped by the token's own lifetime. */
export function authCookie(c: CookieSettings, token: string, expiresInSec: number): string {
  return build(c.name, token, authAttrs(c), Math.min(c.maxAgeSec, expiresInSec));
}

export function refreshCookie(c: CookieSettings, sealed: string): string {
  return build(refreshCookieName(c), sealed, refreshAttrs(c), c.maxAgeSec);
}

export function flowCookie(c: CookieSettings, state: string, sealed: string, callbackPath: string): string {
  return build(flowCookieName(state), sealed, flowAttrs(c, callbackPath), FLOW_TTL_SEC);
}

export function clearAuthCookie(c: CookieSettings): string {
  return build(c.name, '', authAttrs(c), 0);
}

export function clearRefreshCookie(c: CookieSettings): string {
  return build(refreshCookieName(c), '', refreshAttrs(c), 0);
}

export function clearFlowCookie(c: CookieSettings, name: string, callbackPath: string): string {
  return build(name, '', flowAttrs(c, callbackPath), 0);
}
