/**
 * Error pages a person can read (docs/decisions.md): the same answer as the JSON error, as one small
 * HTML page, for a request whose `Accept` prefers `text/html` to JSON.
 *
 * Enforces: HTML only when `text/html` (or `text/*`) is named with a q-value above zero and above
 * the best of `application/json`, `application/*` and `*∕*` — `*∕*` alone (curl, fetch) is not a
 * browser; the page holds the status, the error code, the reason's own sentence, the request id
 * and the links given by the caller (log in again, log out), all HTML-escaped; no script, no
 * external asset: `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'`,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, never cached.
 */
import { STATUS_CODES } from 'node:http';

/** Where the page may send the person next; absent links are not shown. */
export interface PageLinks {
  /** The login start with `rd` (401, 403). */
  readonly login?: string;
  /** The logout path (403). */
  readonly logout?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** The q-value of each media range in an Accept header (RFC 9110 §12.5.1), lower-cased. */
function mediaRanges(accept: string): Map<string, number> {
  const ranges = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (type === undefined || type === '') continue;
    let q = 1;
    for (const param of params) {
      const m = /^q=([01](?:\.\d{0,3})?)$/.exec(param);
      if (m?.[1] !== undefined) q = Math.min(1, Number(m[1]));
    }
    ranges.set(type, Math.max(q, ranges.get(type) ?? 0));
  }
  return ranges;
}

export function prefersHtml(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(',') : accept;
  if (value === undefined) return false;
  const ranges = mediaRanges(value);
  const html = Math.max(ranges.get('text/html') ?? 0, ranges.get('text/*') ?? 0);
  const json = Math.max(ranges.get('application/json') ?? 0, ranges.get('application/*') ?? 0, ranges.get('*/*') ?? 0);
  return html > 0 && html > json;
}

const TITLES: Readonly<Record<string, string>> = { access_denied: 'Login cancelled' };

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}' +
  'code{background:#eee;padding:0 .2rem}.id{color:#666;font-size:.85rem}a{margin-right:1rem}';

export const HTML_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function htmlErrorPage(status: number, error: string, description: string, requestId: string, links: PageLinks = {}): string {
  const title = TITLES[error] ?? `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const actions = [
    links.login === undefined ? '' : `<a href="${escapeHtml(links.login)}">${error === 'access_denied' ? 'Try again' : 'Log in again'}</a>`,
    links.logout === undefined ? '' : `<a href="${escapeHtml(links.logout)}">Log out</a>`,
  ].join('');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(description)}</p><p>Error <code>${escapeHtml(error)}</code>, status ${status}.</p>` +
    (actions === '' ? '' : `<p>${actions}</p>`) +
    `<p class="id">Request id: <code>${escapeHtml(requestId)}</code></p></body></html>`
  );
}

/** The login paths a page links to (the config's `login.browser`). */
export interface BrowserPaths {
  readonly startPath: string;
  readonly logoutPath: string;
}

/**
 * The `html` option of an error answer: undefined for API clients; for a browser, the links
 * that apply — none without browser login, else "log in again" (to the start with `rd` when
 * given) and, with `logout`, "log out".
 */
export function browserLinks(
  accept: string | string[] | undefined,
  browser: BrowserPaths | undefined,
  opts: { readonly login: boolean; readonly rd?: string; readonly logout?: boolean },
): PageLinks | undefined {
  if (!prefersHtml(accept)) return undefined;
  if (browser === undefined || !opts.login) return {};
  const login = opts.rd === undefined ? browser.startPath : `${browser.startPath}?rd=${encodeURIComponent(opts.rd)}`;
  return opts.logout === true ? { login, logout: browser.logoutPath } : { login };
}
