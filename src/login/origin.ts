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
  const presented = originOf(origin.trim());
  if (presented === undefined) return true;
  const own = info.host === '' ? undefined : originOf(`${info.proto}://${info.host}`);
  const pub = publicUrl === undefined ? undefined : originOf(publicUrl);
  return presented !== own && presented !== pub;
}
