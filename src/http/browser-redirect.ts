/**
 * What a browser is told when it is denied (docs/decisions.md): sent to log in, or shown the error as
 * a page it can read.
 *
 * Enforces: only a `GET` whose `Accept` names `text/html`, denied with a 401 (no valid
 * identity), with browser login configured, is redirected (302 to the login start with `rd` =
 * the original URL). Behind the reverse proxy always; at forward-auth by
 * `forward_auth.browser_redirect`: `always`, `never`, or `auto` — redirect when the front proxy
 * described the request with `X-Forwarded-*` (Traefik, Envoy pass any status on), 401 when it
 * used nginx's `X-Original-*` (nginx only passes 401/403 on; its `error_page` sends the browser
 * to the login). At forward-auth `rd` is the absolute original URL (scheme, host, path, query)
 * and the start is on `public_url` (where the callback and its flow cookie live). Every other
 * denial is the error answer: an HTML page for a client that prefers HTML, with "log in again"
 * on 401 and 403 and "log out" on 403, when browser login is on.
 */
import type { RuntimeConfig } from '../config/types.js';
import { REASONS } from '../errors.js';
import type { Reason } from '../errors.js';
import { browserLinks } from './html-error.js';
import type { PageLinks } from './html-error.js';
import { firstHeader } from './header-values.js';
import type { RequestInfo } from './request-info.js';

/** Which terminal denied the request: the reverse proxy or the forward-auth endpoint. */
export type Terminal = 'proxy' | 'forward_auth';

/**
 * `login`: at forward-auth, the login start for this request even when not redirecting, sent as
 * `X-Auth-Request-Redirect` so nginx's `error_page 401` can redirect to it (nginx 1.22 cannot
 * percent-encode the return address itself).
 */
export type DeniedAnswer = { readonly location: string } | { readonly html: PageLinks | undefined; readonly login?: string };

function acceptsHtml(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(',') : accept;
  return value !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(value);
}

/** nginx `auth_request` describes the request with X-Original-*; Traefik and Envoy with X-Forwarded-*. */
function fromNginx(info: RequestInfo): boolean {
  return firstHeader(info.headers['x-original-uri']) !== undefined || firstHeader(info.headers['x-original-url']) !== undefined;
}

export function deniedAnswer(info: RequestInfo, config: RuntimeConfig, reason: Reason, terminal: Terminal | undefined): DeniedAnswer {
  const browser = config.login?.browser;
  const status = REASONS[reason].status;
  const forwarded = terminal === 'forward_auth';
  const rd = forwarded ? `${info.proto}://${info.host}${info.path}${info.query}` : `${info.path}${info.query}`;
  if (browser !== undefined && terminal !== undefined && status === 401 && info.method === 'GET' && acceptsHtml(info.headers.accept)) {
    const mode = config.forwardAuth.browserRedirect;
    const redirect = !forwarded || mode === 'always' || (mode === 'auto' && !fromNginx(info));
    const base = forwarded ? (config.publicUrl ?? '').replace(/\/+$/, '') : '';
    const location = `${base}${browser.startPath}?rd=${encodeURIComponent(rd)}`;
    if (redirect) return { location };
    if (forwarded) return { html: browserLinks(info.headers.accept, browser, { login: true, rd }), login: location };
  }
  const login = status === 401 || status === 403;
  return { html: browserLinks(info.headers.accept, browser, { login, rd, logout: status === 403 }) };
}
