/**
 * The `Set-Cookie` values portcullis writes (SPEC §6, SECURITY "Browser login").
 *
 * Enforces, as exact strings:
 * - auth cookie: `<name>=<token>; HttpOnly[; Secure]; SameSite=<same_site>; Path=/[; Domain=…]; Max-Age=<s>`;
 * - refresh cookie `<name>_refresh`: sealed value, HttpOnly, SameSite=Strict, Path=/, the
 *   auth cookie's Secure and Domain, Max-Age = cookie.max_age;
 * - flow cookie `portcullis_flow_<first 8 chars of state>`: HttpOnly, SameSite=Lax (a Strict
 *   state cookie would be missing on the IdP's redirect back, oauth2-proxy#1663), Path = the
 *   callback path, host-only, Max-Age=600;
 * - a request's portcullis cookies are recognised by these names (and auth cookie chunks
 *   `<name>_<n>`), so forward-auth can hand a front proxy the `Cookie` header without them;
 * - clearing: the same Path and Domain with an empty value, Max-Age=0 and an Expires in the
 *   past, so every browser drops it.
 */
import type { CookieSettings } from '../config/types.js';

export const FLOW_COOKIE_PREFIX = 'portcullis_flow_';
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
 * Whether a request cookie is one of portcullis' own: for each auth cookie name in `bases`
 * (`tokens.cookie`, `login.cookie.name`), the cookie itself, its chunks `<name>_<n>` and its
 * refresh cookie `<name>_refresh`; and every login-flow cookie.
 */
export function isOwnCookie(bases: readonly (string | false)[], name: string | undefined): boolean {
  if (name === undefined) return false;
  if (name.startsWith(FLOW_COOKIE_PREFIX)) return true;
  return bases.some((base) => {
    if (base === false) return false;
    if (name === base) return true;
    const suffix = name.startsWith(`${base}_`) ? name.slice(base.length + 1) : undefined;
    return suffix === 'refresh' || (suffix !== undefined && /^\d+$/.test(suffix));
  });
}

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
