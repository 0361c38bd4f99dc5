/**
 * Login CSRF guard (docs/security.md, "Browser login"): a request that would set the auth cookie must
 * come from the application's own origin.
 *
 * Enforces: `Sec-Fetch-Site: cross-site` or `same-site` is refused (a sibling subdomain is
 * another site's code); an `Origin` header, when present, must equal the request's own origin
 * (scheme + Host) or `public_url`'s origin, compared after URL parsing; `Origin: null` and
 * unparseable origins are refused. Requests without either header (curl, scripts) pass: they
 * cannot be forged by a browser page.
 */
import type { RequestInfo } from '../http/request-info.js';
import { firstHeader } from '../http/header-values.js';

function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export function isCrossSite(info: RequestInfo, publicUrl: string | undefined): boolean {
  const site = firstHeader(info.headers['sec-fetch-site'])?.trim().toLowerCase();
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = firstHeader(info.headers.origin);
  if (origin === undefined) return false;
  return !isOwnOrigin(origin, info, publicUrl);
}

/** Whether `value` (an Origin or a URL) parses to the request's own origin or public_url's. */
function isOwnOrigin(value: string, info: RequestInfo, publicUrl: string | undefined): boolean {
  const presented = originOf(value.trim());
  if (presented === undefined) return false;
  const own = info.host === '' ? undefined : originOf(`${info.proto}://${info.host}`);
  const pub = publicUrl === undefined ? undefined : originOf(publicUrl);
  return presented === own || presented === pub;
}

/**
 * Logout's stricter guard (a cross-site logout is a nuisance attack, and a same-site sibling is
 * another site): with `Sec-Fetch-Site`, only `same-origin` and `none` (typed or bookmarked) pass;
 * without it, an `Origin` — or, lacking that, a `Referer` — must be the request's own origin or
 * `public_url`'s. Requests with none of the three (non-browser clients) pass.
 */
export function isForeignToLogout(info: RequestInfo, publicUrl: string | undefined): boolean {
  const site = firstHeader(info.headers['sec-fetch-site'])?.trim().toLowerCase();
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const presented = firstHeader(info.headers.origin) ?? firstHeader(info.headers.referer);
  return presented !== undefined && !isOwnOrigin(presented, info, publicUrl);
}
