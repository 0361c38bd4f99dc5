/**
 * Headless login driver for tests: fetch with a cookie jar, redirects followed by hand, and the
 * HTML forms of the development IdP (login, and consent when shown) filled in and submitted.
 *
 * Cookies follow RFC 6265 closely enough for loopback tests: host-only or domain cookies, path
 * prefix, Max-Age/Expires, deletion; like browsers, cookies ignore the port, so an IdP and a
 * sidecar on two ports of 127.0.0.1 share one jar. Secure cookies are sent over https and to
 * loopback hosts. SameSite is not enforced (tests only make top-level navigations).
 *
 * Not a browser: what a person does in one (flows, cookies as Chromium keeps them) is tested in
 * test/browser with test/support/chromium.ts. This driver stays for what a browser cannot show
 * or send: raw Set-Cookie lines and answers, tampered or replayed values, requests made by hand.
 */

interface Cookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  expiresAt: number;
}

export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

export interface HtmlForm {
  readonly action: string;
  readonly method: string;
  readonly fields: Record<string, string>;
  readonly hasPassword: boolean;
}

export interface GotoOptions {
  readonly method?: string;
  readonly body?: URLSearchParams;
  readonly headers?: Record<string, string>;
  /** Stop before requesting a redirect target this matches (for example a redirect_uri). */
  readonly stopAt?: (url: URL) => boolean;
  readonly maxRedirects?: number;
}

export interface LoginOptions {
  readonly username: string;
  readonly password: string;
  readonly stopAt?: (url: URL) => boolean;
  readonly maxSteps?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'" };

function decodeEntities(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39|apos);/g, (_m, name: string) => ENTITY[name] ?? '');
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const name = m[1];
    if (name !== undefined) out[name.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** The forms of an HTML page with their named inputs (and their initial values). */
export function parseForms(html: string, baseUrl: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1] ?? '');
    const fields: Record<string, string> = {};
    let hasPassword = false;
    for (const input of (m[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1] ?? '');
      if (a.type === 'password') hasPassword = true;
      if (a.name !== undefined && a.type !== 'submit') fields[a.name] = a.value ?? '';
    }
    forms.push({
      action: new URL(attrs.action ?? '', baseUrl).href,
      method: (attrs.method ?? 'GET').toUpperCase(),
      fields,
      hasPassword,
    });
  }
  return forms;
}

export class Browser {
  readonly #cookies: Cookie[] = [];

  /** Cookies that would be sent to `url` (name -> value). */
  cookiesFor(url: string): Record<string, string> {
    const target = new URL(url);
    const host = target.hostname;
    const now = Date.now();
    const out: Record<string, string> = {};
    for (const c of this.#cookies) {
      const domainOk = c.hostOnly ? host === c.domain : host === c.domain || host.endsWith(`.${c.domain}`);
      const pathOk = target.pathname === c.path || target.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`);
      const secureOk = !c.secure || target.protocol === 'https:' || LOOPBACK.has(host);
      if (domainOk && pathOk && secureOk && c.expiresAt > now) out[c.name] = c.value;
    }
    return out;
  }

  #store(url: URL, header: string): void {
    const [pair = '', ...attrs] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie: Cookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      domain: url.hostname,
      hostOnly: true,
      path: url.pathname.replace(/\/[^/]*$/, '') || '/',
      secure: false,
      expiresAt: Infinity,
    };
    for (const attr of attrs) {
      const [rawKey = '', ...rest] = attr.split('=');
      const key = rawKey.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (key === 'domain' && value !== '') {
        cookie.domain = value.replace(/^\./, '').toLowerCase();
        cookie.hostOnly = false;
      } else if (key === 'path' && value.startsWith('/')) cookie.path = value;
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'max-age') cookie.expiresAt = Date.now() + Number(value) * 1000;
      else if (key === 'expires' && !attrs.some((a) => a.trim().toLowerCase().startsWith('max-age'))) {
        cookie.expiresAt = Date.parse(value);
      }
    }
    const index = this.#cookies.findIndex((c) => c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path);
    if (index >= 0) this.#cookies.splice(index, 1);
    if (cookie.expiresAt > Date.now()) this.#cookies.push(cookie);
  }

  /** One request, no redirect following; cookies are sent and stored. */
  async request(url: string, init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = {}): Promise<Response> {
    const cookie = Object.entries(this.cookiesFor(url))
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
    const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml', ...init.headers };
    if (cookie !== '') headers.cookie = cookie;
    const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual' });
    for (const header of res.headers.getSetCookie()) this.#store(new URL(url), header);
    return res;
  }

  /** Requests `url` and follows redirects (303 and 302 after POST turn into GET). */
  async goto(url: string, opts: GotoOptions = {}): Promise<Page> {
    let current = url;
    let init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = opts;
    for (let hop = 0; hop <= (opts.maxRedirects ?? 20); hop += 1) {
      const res = await this.request(current, init);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 399 || location === null) {
        return { url: current, status: res.status, headers: res.headers, body: await res.text() };
      }
      await res.arrayBuffer();
      const next = new URL(location, current);
      if (opts.stopAt?.(next)) return { url: next.href, status: res.status, headers: res.headers, body: '' };
      current = next.href;
      if (res.status !== 307 && res.status !== 308) init = { ...(opts.headers ? { headers: opts.headers } : {}) };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  async submit(page: Page, form: HtmlForm, values: Record<string, string>, opts: GotoOptions = {}): Promise<Page> {
    const body = new URLSearchParams({ ...form.fields, ...values });
    if (form.method === 'GET') {
      const target = new URL(form.action);
      for (const [k, v] of body) target.searchParams.set(k, v);
      return this.goto(target.href, opts);
    }
    const headers = { ...opts.headers, 'content-type': 'application/x-www-form-urlencoded', referer: page.url };
    return this.goto(form.action, { ...opts, method: 'POST', body, headers });
  }

  /**
   * Starts at `url` and signs in: fills the password form with the credentials and submits
   * any other form (consent) as is, until a page without forms or a `stopAt` URL is reached.
   */
  async login(url: string, opts: LoginOptions): Promise<Page> {
    const goto = { ...(opts.stopAt ? { stopAt: opts.stopAt } : {}) };
    let page = await this.goto(url, goto);
    let triedPassword = false;
    for (let step = 0; step < (opts.maxSteps ?? 10); step += 1) {
      const form = parseForms(page.body, page.url)[0];
      if (form === undefined) return page;
      if (form.hasPassword) {
        if (triedPassword) throw new Error(`login as ${opts.username} was refused by ${new URL(page.url).origin}`);
        triedPassword = true;
        const loginField = 'username' in form.fields && !('login' in form.fields) ? 'username' : 'login';
        page = await this.submit(page, form, { [loginField]: opts.username, password: opts.password }, goto);
      } else {
        page = await this.submit(page, form, {}, goto);
      }
    }
    throw new Error(`login did not finish within ${opts.maxSteps ?? 10} steps`);
  }
}
