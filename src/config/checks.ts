/**
 * Cross-field checks on a schema-valid document (SPEC §3 refusals and the extensions): issuers
 * and their algorithms, URLs, routes against the mode, login prerequisites, authenticators,
 * endpoint paths. Every check reports a finding at the node it concerns; all are collected.
 * Messages never quote configured values (they may come from secrets in the environment).
 */
import { isIP } from 'node:net';
import type { Finding, Segment } from './locate.js';
import type { ConfigDoc, IssuerDoc } from './schema.js';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_PATTERN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`, 'i');
const ENDPOINT_PATH = /^\/[^\s?#]*$/;
const HS_FIX = 'HS* needs secret and no JWKS';

/** `proxy` when the main listener proxies: explicitly, or `auto` with a route naming an upstream. */
export function effectiveMode(doc: ConfigDoc): 'proxy' | 'forward_auth' {
  if (doc.mode !== 'auto') return doc.mode;
  return doc.routes.some((r) => r.upstream !== undefined) ? 'proxy' : 'forward_auth';
}

function httpUrl(text: string): URL | undefined {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  return url && (url.protocol === 'http:' || url.protocol === 'https:') ? url : undefined;
}

function isSecureUrl(text: string): boolean {
  const url = httpUrl(text);
  return url !== undefined && (url.protocol === 'https:' || LOOPBACK.has(url.hostname));
}

function isSource(text: string): boolean {
  const [addr = '', bits, extra] = text.split('/');
  const family = isIP(addr);
  if (bits === undefined) return family !== 0;
  const n = /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
  return family !== 0 && extra === undefined && n >= 0 && n <= (family === 4 ? 32 : 128);
}

/** Reports the later of two entries with the same value. */
function duplicates(values: readonly string[], at: (i: number) => Segment[], message: (first: number) => string, out: Finding[]): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else out.push({ path: at(i), message: message(first) });
  });
}

function checkIssuer(iss: IssuerDoc, at: Segment[], out: Finding[]): void {
  const urlMessage = 'must be an absolute https URL (http only on 127.0.0.1, localhost or [::1]); fix the URL';
  if (iss.issuer === undefined && iss.jwks_uri === undefined) {
    out.push({ path: at, message: 'issuer has neither issuer nor jwks_uri; add issuer: (the expected iss) or jwks_uri:' });
  }
  for (const key of ['issuer', 'jwks_uri'] as const) {
    const value = iss[key];
    if (value !== undefined && !isSecureUrl(value)) out.push({ path: [...at, key], message: urlMessage });
  }
  iss.algorithms.forEach((alg, j) => {
    if (alg.toLowerCase() === 'none') {
      out.push({ path: [...at, 'algorithms', j], message: '"none" means unsigned tokens and is never accepted; remove it' });
    } else if (!ALGORITHMS.includes(alg)) {
      out.push({ path: [...at, 'algorithms', j], message: `unsupported algorithm; use one of: ${ALGORITHMS.join(', ')}` });
    }
  });
  const hmac = iss.algorithms.some((a) => /^HS(256|384|512)$/.test(a));
  const other = iss.algorithms.some((a) => ALGORITHMS.includes(a) && !a.startsWith('HS'));
  if (hmac && iss.secret === undefined) {
    out.push({ path: [...at, 'algorithms'], message: `${HS_FIX}; add secret: to this issuer, e.g. secret: \${JWT_SECRET}` });
  }
  if (hmac && other) {
    out.push({ path: [...at, 'algorithms'], message: `${HS_FIX}; do not mix HS* with public-key algorithms, use a separate issuer` });
  }
  if (hmac && iss.jwks_uri !== undefined) {
    out.push({ path: [...at, 'jwks_uri'], message: `${HS_FIX}; remove jwks_uri from this HS* issuer` });
  }
  if (!hmac && iss.secret !== undefined) {
    out.push({ path: [...at, 'secret'], message: 'secret is only used with HS* algorithms; remove it or set algorithms: [HS256]' });
  }
}

function checkIssuers(doc: ConfigDoc, out: Finding[]): void {
  if (doc.issuers.length === 0) {
    out.push({ path: ['issuers'], message: 'no issuer configured; add at least one entry under issuers:' });
  }
  doc.issuers.forEach((iss, i) => checkIssuer(iss, ['issuers', i], out));
  doc.issuers.forEach((iss, i) => {
    const earlier = doc.issuers.slice(0, i).some((e) => e.issuer === undefined);
    if (iss.issuer === undefined && earlier) {
      out.push({ path: ['issuers', i], message: 'only one issuer may omit issuer:; set issuer: to the iss of its tokens' });
    }
  });
  const names = doc.issuers.map((iss) => iss.name);
  duplicates(names, (i) => ['issuers', i, 'name'], (f) => `duplicate issuer name, already used by issuers[${f}]; rename one`, out);
}

function checkRoutes(doc: ConfigDoc, out: Finding[]): void {
  const proxy = effectiveMode(doc) === 'proxy';
  doc.routes.forEach((r, i) => {
    const at = ['routes', i];
    if (proxy && r.upstream === undefined) {
      out.push({ path: at, message: 'route has no upstream but the proxy is used; add upstream: or set mode: forward_auth' });
    }
    if (r.upstream !== undefined && httpUrl(r.upstream) === undefined) {
      out.push({ path: [...at, 'upstream'], message: 'must be an absolute http(s) URL; write e.g. http://127.0.0.1:8123' });
    }
    if (!r.match.path.startsWith('/')) {
      out.push({ path: [...at, 'match', 'path'], message: 'must start with "/"; write e.g. /api' });
    }
    if (r.match.host !== undefined && !HOST_PATTERN.test(r.match.host)) {
      out.push({ path: [...at, 'match', 'host'], message: 'invalid host; write an exact hostname or *.example.com' });
    }
  });
  const names = doc.routes.map((r) => r.name);
  duplicates(names, (i) => ['routes', i, 'name'], (f) => `overlapping route names: routes[${f}] has the same name; give each route a unique name`, out);
}

function checkLogin(doc: ConfigDoc, out: Finding[]): void {
  const login = doc.login;
  if (login === undefined) return;
  if (login.issuer !== undefined && !doc.issuers.some((iss) => iss.name === login.issuer)) {
    out.push({ path: ['login', 'issuer'], message: 'names no configured issuer; use the name: of one of the issuers' });
  }
  if (login.browser !== undefined && doc.public_url === undefined) {
    out.push({ path: ['login', 'browser'], message: 'browser login needs public_url; set public_url: to the external origin, e.g. https://app.example.com' });
  }
  if (login.browser !== undefined && Buffer.byteLength(login.cookie_secret ?? '') < 32) {
    out.push({ path: ['login', ...(login.cookie_secret === undefined ? [] : ['cookie_secret'])], message: 'browser login needs a cookie_secret of at least 32 bytes; set e.g. cookie_secret: ${COOKIE_SECRET}' });
  }
  const name = login.cookie.name;
  if (name !== undefined && typeof doc.tokens.cookie === 'string' && name !== doc.tokens.cookie) {
    out.push({ path: ['login', 'cookie', 'name'], message: 'differs from tokens.cookie, so the login cookie would never be read; use the same name in both' });
  }
}

function checkEndpoints(doc: ConfigDoc, out: Finding[]): void {
  const endpoints: [Segment[], string][] = [[['forward_auth', 'path'], doc.forward_auth.path]];
  const { password, browser } = doc.login ?? {};
  if (password) endpoints.push([['login', 'password', 'path'], password.path]);
  if (browser) {
    for (const key of ['start_path', 'callback_path', 'logout_path'] as const) {
      endpoints.push([['login', 'browser', key], browser[key]]);
    }
  }
  for (const [path, value] of endpoints) {
    if (!ENDPOINT_PATH.test(value)) out.push({ path, message: 'must be a path starting with "/"; write e.g. /_auth/verify' });
  }
  const values = endpoints.map(([, v]) => v);
  duplicates(values, (i) => endpoints[i]?.[0] ?? [], () => 'collides with another portcullis endpoint path; choose a different path', out);
}

function checkRest(doc: ConfigDoc, out: Finding[]): void {
  if (doc.public_url !== undefined && httpUrl(doc.public_url) === undefined) {
    out.push({ path: ['public_url'], message: 'must be an absolute http(s) URL; write e.g. https://app.example.com' });
  }
  if (doc.tokens.cookie === true) {
    out.push({ path: ['tokens', 'cookie'], message: 'must be a cookie name or false; write e.g. access_token' });
  }
  doc.forward_auth.trusted_sources.forEach((s, i) => {
    if (!isSource(s)) out.push({ path: ['forward_auth', 'trusted_sources', i], message: 'not an IP address or CIDR; write e.g. 10.0.0.0/8 or 127.0.0.1' });
  });
  doc.authenticators.forEach((a, i) => {
    const at = ['authenticators', i];
    if (a.type === 'module' && a.path === undefined) {
      out.push({ path: at, message: 'missing required key "path" for type: module; add path: ./plugins/<name>.js' });
    }
    for (const key of a.type === 'jwt' ? (['path', 'options'] as const) : []) {
      if (a[key] !== undefined) out.push({ path: [...at, key], message: 'only type: module takes path and options; remove it', atKey: true });
    }
  });
  const jwt = doc.authenticators.map((a, i) => [a.type, i] as const).filter(([t]) => t === 'jwt');
  for (const [, i] of jwt.slice(1)) {
    out.push({ path: ['authenticators', i], message: 'the built-in jwt authenticator is listed twice; keep one' });
  }
}

/** Every cross-field problem of a schema-valid document. */
export function checkDocument(doc: ConfigDoc): Finding[] {
  const out: Finding[] = [];
  checkIssuers(doc, out);
  checkRoutes(doc, out);
  checkLogin(doc, out);
  checkEndpoints(doc, out);
  checkRest(doc, out);
  return out;
}
