/**
 * Cross-field checks on a schema-valid document (docs/configuration.md refusals and the extensions): issuers
 * and their algorithms, URLs, routes against the mode, login prerequisites, authenticators,
 * endpoint paths. Every check reports a finding at the node it concerns; all are collected.
 * Messages never quote configured values (they may come from secrets in the environment).
 */
import { isIP } from 'node:net';
import { isAllowedKeyUrl } from '../util/url-policy.js';
import { parseDuration } from './duration.js';
import type { Finding, Segment } from './locate.js';
import { normalizeRoutePath } from './route-path.js';
import type { ConfigDoc, IssuerDoc } from './schema.js';

type Report = (path: Segment[], message: string, atKey?: boolean) => void;

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
  .concat(['HS256', 'HS384', 'HS512']);
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_PATTERN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`, 'i');
const ENDPOINT_PATH = /^\/[^\s?#]*$/;

const HS = 'HS* needs secret and no JWKS';
const MESSAGES = {
  noIssuer: 'no issuer configured; add at least one entry under issuers:',
  noIssuerUrl: 'issuer has neither issuer nor jwks_uri; add issuer: (the expected iss) or jwks_uri:',
  issuerUrl:
    'must be an absolute https URL (http only on loopback hosts); fix the URL, or set allow_http: true on this issuer for an IdP reached over a private network',
  secondAnyIss: 'only one issuer may omit issuer:; set issuer: to the iss of its tokens',
  none: '"none" means unsigned tokens and is never accepted; remove it',
  algorithm: `unsupported algorithm; use one of: ${ALGORITHMS.join(', ')}`,
  hsNoSecret: `${HS}; add secret: to this issuer, e.g. secret: \${JWT_SECRET}`,
  hsMixed: `${HS}; do not mix HS* with public-key algorithms, use a separate issuer`,
  hsJwks: `${HS}; remove jwks_uri from this HS* issuer`,
  straySecret: 'secret is only used with HS* algorithms; remove it or set algorithms: [HS256]',
  noUpstream: 'route has no upstream but the proxy is used; add upstream: or set mode: forward_auth',
  upstream: 'must be an absolute http(s) URL; write e.g. http://127.0.0.1:8123',
  routePath: 'must start with "/"; write e.g. /api',
  host: 'invalid host; write an exact hostname or *.example.com',
  loginIssuer: 'names no configured issuer; use the name: of one of the issuers',
  publicUrlNeeded: 'browser login needs public_url; set public_url: to the external origin, e.g. https://app.example.com',
  cookieSecret: 'browser login needs a cookie_secret of at least 32 bytes; set e.g. cookie_secret: ${COOKIE_SECRET}',
  cookieName: 'differs from tokens.cookie, so the login cookie would never be read; use the same name in both',
  endpointPath: 'must be a path starting with "/"; write e.g. /_auth/verify',
  endpointClash: 'collides with another portcullis endpoint path; choose a different path',
  publicUrl: 'must be an absolute http(s) URL; write e.g. https://app.example.com',
  tokenCookie: 'must be a cookie name or false; write e.g. access_token',
  source: 'not an IP address or CIDR; write e.g. 10.0.0.0/8 or 127.0.0.1',
  routeIssuer: 'names no configured issuer; use the name: of one of the issuers',
  trustForwarded:
    'trust_forwarded_headers trusts whoever connects to set X-Forwarded-*; list the addresses of your proxies in trusted_proxies: instead (e.g. trusted_proxies: [10.0.0.0/8])',
  noRoutes: 'no routes: the main listener answers every request 404; add routes: (e.g. one with match: { path: / })',
  noAudiences:
    'no audiences: any token this issuer signs is accepted, also one meant for another client or API (Keycloak\'s "account"); add audiences: [<your API>]',
  modulePath: 'missing required key "path" for type: module; add path: ./plugins/<name>.js',
  jwtExtra: 'only type: module takes path and options; remove it',
  jwtTwice: 'the built-in jwt authenticator is listed twice; keep one',
  interval: 'must be from 1s to 24d (a timer interval); change the value',
  timeout: 'must be from 100ms to 24d (a timer); change the value',
  hsSecretLength: 'an HS* secret needs at least 32 bytes (RFC 7518 §3.2); use a longer random secret',
  cookieSecretLength: 'cookie_secret must have at least 32 bytes; set e.g. cookie_secret: ${COOKIE_SECRET}',
  loginIssuerUrl: 'login needs an issuer with issuer: (for discovery of its endpoints); name another issuer or add issuer:',
  sameSiteNone: 'same_site: None needs secure: true, or browsers drop the cookie; set secure: true',
};

/** Longest delay Node timers keep (2^31-1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Duration fields that drive timers, with their floor: a zero or huge value would spin or stall. */
function checkTimers(doc: ConfigDoc, report: Report): void {
  const within = (value: string | number, minMs: number): boolean => {
    const ms = parseDuration(value);
    return ms !== undefined && ms >= minMs && ms <= MAX_TIMER_MS;
  };
  doc.issuers.forEach((iss, i) => {
    for (const key of ['refresh_interval', 'min_refresh_interval'] as const) {
      if (!within(iss.jwks[key], 1_000)) report(['issuers', i, 'jwks', key], MESSAGES.interval);
    }
    if (!within(iss.jwks.timeout, 100)) report(['issuers', i, 'jwks', 'timeout'], MESSAGES.timeout);
  });
  doc.routes.forEach((r, i) => {
    if (!within(r.timeout, 100)) report(['routes', i, 'timeout'], MESSAGES.timeout);
  });
  for (const key of ['shutdown_timeout', 'shutdown_delay'] as const) {
    if (!within(doc[key], 0)) report([key], MESSAGES.timeout);
  }
  if (!within(doc.client_body_timeout, 100)) report(['client_body_timeout'], MESSAGES.timeout);
}

/** `proxy` when the main listener proxies: explicitly, or `auto` with a route naming an upstream. */
export function effectiveMode(doc: ConfigDoc): 'proxy' | 'forward_auth' {
  if (doc.mode !== 'auto') return doc.mode;
  return doc.routes.some((r) => r.upstream !== undefined) ? 'proxy' : 'forward_auth';
}

function httpUrl(text: string): URL | undefined {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  return url && (url.protocol === 'http:' || url.protocol === 'https:') ? url : undefined;
}

function isSource(text: string): boolean {
  const [addr = '', bits, extra] = text.split('/');
  const family = isIP(addr);
  if (bits === undefined) return family !== 0;
  const n = /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
  return family !== 0 && extra === undefined && n >= 0 && n <= (family === 4 ? 32 : 128);
}

/** Reports every entry whose value an earlier entry already has. */
function duplicates(values: readonly string[], report: (i: number, first: number) => void): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else report(i, first);
  });
}

function checkIssuer(iss: IssuerDoc, at: Segment[], report: Report): void {
  if (iss.issuer === undefined && iss.jwks_uri === undefined) report(at, MESSAGES.noIssuerUrl);
  for (const key of ['issuer', 'jwks_uri'] as const) {
    const value = iss[key];
    if (value !== undefined && !isAllowedKeyUrl(value, iss.allow_http)) report([...at, key], MESSAGES.issuerUrl);
  }
  iss.algorithms.forEach((alg, j) => {
    if (alg.toLowerCase() === 'none') report([...at, 'algorithms', j], MESSAGES.none);
    else if (!ALGORITHMS.includes(alg)) report([...at, 'algorithms', j], MESSAGES.algorithm);
  });
  const hmac = iss.algorithms.some((a) => ALGORITHMS.includes(a) && a.startsWith('HS'));
  const other = iss.algorithms.some((a) => ALGORITHMS.includes(a) && !a.startsWith('HS'));
  if (hmac && iss.secret === undefined) report([...at, 'algorithms'], MESSAGES.hsNoSecret);
  if (hmac && other) report([...at, 'algorithms'], MESSAGES.hsMixed);
  if (hmac && iss.jwks_uri !== undefined) report([...at, 'jwks_uri'], MESSAGES.hsJwks);
  if (!hmac && iss.secret !== undefined) report([...at, 'secret'], MESSAGES.straySecret);
  if (hmac && iss.secret !== undefined && Buffer.byteLength(iss.secret) < 32) report([...at, 'secret'], MESSAGES.hsSecretLength);
}

function checkIssuers(doc: ConfigDoc, report: Report): void {
  if (doc.issuers.length === 0) report(['issuers'], MESSAGES.noIssuer);
  doc.issuers.forEach((iss, i) => {
    checkIssuer(iss, ['issuers', i], report);
    const earlierAnyIss = doc.issuers.slice(0, i).some((e) => e.issuer === undefined);
    if (iss.issuer === undefined && earlierAnyIss) report(['issuers', i], MESSAGES.secondAnyIss);
  });
  duplicates(
    doc.issuers.map((iss) => iss.name),
    (i, first) => report(['issuers', i, 'name'], `duplicate issuer name, already used by issuers[${first}]; rename one`),
  );
}

function checkRoutes(doc: ConfigDoc, report: Report): void {
  const proxy = effectiveMode(doc) === 'proxy';
  doc.routes.forEach((r, i) => {
    const at = ['routes', i];
    if (proxy && r.upstream === undefined) report(at, MESSAGES.noUpstream);
    if (r.upstream !== undefined && httpUrl(r.upstream) === undefined) report([...at, 'upstream'], MESSAGES.upstream);
    if (!r.match.path.startsWith('/')) report([...at, 'match', 'path'], MESSAGES.routePath);
    else {
      const path = normalizeRoutePath(r.match.path);
      if (!path.ok) report([...at, 'match', 'path'], path.message);
    }
    if (r.match.host !== undefined && !HOST_PATTERN.test(r.match.host)) report([...at, 'match', 'host'], MESSAGES.host);
    r.issuers?.forEach((name, j) => {
      if (!doc.issuers.some((iss) => iss.name === name)) report([...at, 'issuers', j], MESSAGES.routeIssuer);
    });
  });
  checkCaseTwins(doc, report);
  duplicates(
    doc.routes.map((r) => r.name),
    (i, first) =>
      report(['routes', i, 'name'], `overlapping route names: routes[${first}] has the same name; give each route a unique name`),
  );
}

/** The prefix a route matches with: normalised, no trailing slash; undefined when refused. */
function matchedPrefix(path: string): string | undefined {
  const normal = path.startsWith('/') ? normalizeRoutePath(path) : undefined;
  return normal?.ok ? normal.path.replace(/\/+$/, '') || '/' : undefined;
}

/**
 * Prefixes compare without letter case, so two routes of one host whose paths differ only in
 * case would judge the same requests: which one was meant is unknowable.
 */
function checkCaseTwins(doc: ConfigDoc, report: Report): void {
  const seen = new Map<string, { index: number; path: string }>();
  doc.routes.forEach((r, i) => {
    const path = matchedPrefix(r.match.path);
    if (path === undefined) return;
    const key = `${r.match.host?.toLowerCase().replace(/\.$/, '') ?? ''} ${path.toLowerCase()}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, { index: i, path });
    else if (first.path !== path) {
      report(['routes', i, 'match', 'path'], `differs from routes[${first.index}] only in letter case, and paths match without case; use one spelling for both`);
    }
  });
}

function checkLogin(doc: ConfigDoc, report: Report): void {
  const login = doc.login;
  if (login === undefined) return;
  const issuer = login.issuer === undefined ? doc.issuers[0] : doc.issuers.find((iss) => iss.name === login.issuer);
  if (login.issuer !== undefined && issuer === undefined) report(['login', 'issuer'], MESSAGES.loginIssuer);
  else if (issuer !== undefined && issuer.issuer === undefined) {
    report(login.issuer === undefined ? ['login'] : ['login', 'issuer'], MESSAGES.loginIssuerUrl);
  }
  if (login.browser !== undefined && doc.public_url === undefined) report(['login', 'browser'], MESSAGES.publicUrlNeeded);
  if (login.browser !== undefined && login.cookie_secret === undefined) report(['login'], MESSAGES.cookieSecret);
  // Also without browser login: a password login with ?cookie=true seals the refresh token.
  if (login.cookie_secret !== undefined && Buffer.byteLength(login.cookie_secret) < 32) {
    report(['login', 'cookie_secret'], login.browser !== undefined ? MESSAGES.cookieSecret : MESSAGES.cookieSecretLength);
  }
  if (login.cookie.same_site === 'None' && !login.cookie.secure) report(['login', 'cookie', 'same_site'], MESSAGES.sameSiteNone);
  const name = login.cookie.name;
  if (name !== undefined && typeof doc.tokens.cookie === 'string' && name !== doc.tokens.cookie) {
    report(['login', 'cookie', 'name'], MESSAGES.cookieName);
  }
}

function checkEndpoints(doc: ConfigDoc, report: Report): void {
  const endpoints: [Segment[], string][] = [[['forward_auth', 'path'], doc.forward_auth.path]];
  const { password, browser } = doc.login ?? {};
  if (password) endpoints.push([['login', 'password', 'path'], password.path]);
  if (browser) {
    for (const key of ['start_path', 'callback_path', 'logout_path'] as const) {
      endpoints.push([['login', 'browser', key], browser[key]]);
    }
  }
  for (const [path, value] of endpoints) {
    if (!ENDPOINT_PATH.test(value)) report(path, MESSAGES.endpointPath);
  }
  duplicates(
    endpoints.map(([, value]) => value),
    (i) => report(endpoints[i]?.[0] ?? [], MESSAGES.endpointClash),
  );
}

function checkRest(doc: ConfigDoc, report: Report): void {
  if (doc.public_url !== undefined && httpUrl(doc.public_url) === undefined) report(['public_url'], MESSAGES.publicUrl);
  if (doc.tokens.cookie === true) report(['tokens', 'cookie'], MESSAGES.tokenCookie);
  doc.forward_auth.trusted_sources.forEach((s, i) => {
    if (!isSource(s)) report(['forward_auth', 'trusted_sources', i], MESSAGES.source);
  });
  doc.trusted_proxies.forEach((s, i) => {
    if (!isSource(s)) report(['trusted_proxies', i], MESSAGES.source);
  });
  doc.authenticators.forEach((a, i) => {
    if (a.type === 'module' && a.path === undefined) report(['authenticators', i], MESSAGES.modulePath);
    for (const key of a.type === 'jwt' ? (['path', 'options'] as const) : []) {
      if (a[key] !== undefined) report(['authenticators', i, key], MESSAGES.jwtExtra, true);
    }
  });
  const jwt = doc.authenticators.flatMap((a, i) => (a.type === 'jwt' ? [i] : []));
  for (const i of jwt.slice(1)) report(['authenticators', i], MESSAGES.jwtTwice);
}

/**
 * What a valid document should change but may keep (`check` prints them and still exits 0):
 * no routes, an issuer without audiences, the v1 `trust_forwarded_headers`.
 */
export function checkWarnings(doc: ConfigDoc): Finding[] {
  const out: Finding[] = [];
  if (doc.routes.length === 0) out.push({ path: ['routes'], message: MESSAGES.noRoutes });
  doc.issuers.forEach((iss, i) => {
    if (iss.audiences.length === 0) out.push({ path: ['issuers', i], message: MESSAGES.noAudiences });
  });
  if (doc.trust_forwarded_headers) out.push({ path: ['trust_forwarded_headers'], message: MESSAGES.trustForwarded });
  return out;
}

/** Every cross-field problem of a schema-valid document. */
export function checkDocument(doc: ConfigDoc): Finding[] {
  const out: Finding[] = [];
  const report: Report = (path, message, atKey) => out.push({ path, message, ...(atKey ? { atKey } : {}) });
  for (const check of [checkIssuers, checkRoutes, checkLogin, checkEndpoints, checkRest, checkTimers]) check(doc, report);
  return out;
}
