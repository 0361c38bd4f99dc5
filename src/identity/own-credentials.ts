/**
 * portcullis' own credentials never reach the upstream (docs/decisions.md, identity rules):
 * - every cookie portcullis sets is removed from the `Cookie` header: the auth cookie, its
 *   chunks `<name>_1`, `<name>_2`, …, the refresh cookie `<name>_refresh` and the browser-login
 *   flow cookies `portcullis_flow_*`, every copy of each;
 * - the `access_token` query parameter (read as a token with `tokens.query: true`) is removed
 *   from the query sent upstream; its name is compared decoded, the way the token is read
 *   (`access%5Ftoken` is the same parameter), and the other parameters are kept as sent.
 */
/** Name prefix of the browser-login flow cookies (one per login in progress). */
export const FLOW_COOKIE_PREFIX = 'portcullis_flow_';

/** Whether `name` is one of the cookies portcullis sets for the auth cookie `authName`. */
export function isOwnCookie(name: string, authName: string | false): boolean {
  if (name.startsWith(FLOW_COOKIE_PREFIX)) return true;
  if (authName === false || !name.startsWith(authName)) return false;
  const rest = name.slice(authName.length);
  return rest === '' || rest === '_refresh' || /^_[1-9][0-9]{0,2}$/.test(rest);
}

/** The `Cookie` header without portcullis' cookies; undefined when nothing is left. */
export function withoutOwnCookies(header: string, authName: string | false): string | undefined {
  const kept = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => {
      if (pair === '') return false;
      const eq = pair.indexOf('=');
      return eq === -1 || !isOwnCookie(pair.slice(0, eq).trim(), authName);
    });
  return kept.length === 0 ? undefined : kept.join('; ');
}

function parameterName(pair: string): string | undefined {
  return new URLSearchParams(pair).keys().next().value;
}

/** `query` ('' or starting with `?`) without any `access_token` parameter. */
export function withoutQueryToken(query: string): string {
  if (query === '' || !/access|%/i.test(query)) return query;
  const kept = query
    .slice(1)
    .split('&')
    .filter((pair) => parameterName(pair) !== 'access_token');
  return kept.length === 0 ? '' : `?${kept.join('&')}`;
}
