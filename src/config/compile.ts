/**
 * The compile pass: a schema-valid, cross-checked document becomes the deep-frozen
 * RuntimeConfig. Durations turn into milliseconds (seconds where the name says so), relative
 * paths are resolved against the config file's folder, route matches are normalised (host
 * lower-case, methods upper-case, the path prefix normalised like request paths and without
 * a trailing slash); `strip_headers` is added to the built-in list.
 */
import { dirname, resolve } from 'node:path';
import { deepFreeze } from '../util/object.js';
import { effectiveMode } from './checks.js';
import { parseDuration } from './duration.js';
import { normalizeRoutePath } from './route-path.js';
import { DEFAULT_STRIP_HEADERS } from './schema.js';
import type { ConfigDoc, IssuerDoc, LoginDoc, RouteDoc } from './schema.js';
import type {
  AuthenticatorConfig,
  IssuerConfig,
  ListenAddress,
  LoginConfig,
  RouteConfig,
  RuntimeConfig,
} from './types.js';

function ms(value: string | number): number {
  const result = parseDuration(value);
  if (result === undefined) throw new TypeError('compile() was given a duration the schema should have refused');
  return result;
}

function address(text: string): ListenAddress {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(at + 1)) };
}


function issuer(d: IssuerDoc): IssuerConfig {
  return {
    name: d.name,
    issuer: d.issuer,
    jwksUri: d.jwks_uri,
    audiences: d.audiences,
    algorithms: d.algorithms,
    clockSkewSec: ms(d.clock_skew) / 1000,
    jwks: {
      refreshIntervalMs: ms(d.jwks.refresh_interval),
      minRefreshIntervalMs: ms(d.jwks.min_refresh_interval),
      timeoutMs: ms(d.jwks.timeout),
      maxStaleMs: ms(d.jwks.max_stale),
    },
    claims: d.claims,
    secret: d.secret,
    allowHttp: d.allow_http,
  };
}

function route(d: RouteDoc): RouteConfig {
  const path = normalizeRoutePath(d.match.path);
  if (!path.ok) throw new TypeError('compile() was given a route path the checks should have refused');
  const req = d.require;
  return {
    name: d.name,
    match: {
      host: d.match.host?.toLowerCase(),
      path: path.path.replace(/\/+$/, '') || '/',
      methods: d.match.methods?.map((m) => m.toUpperCase()),
    },
    upstream: d.upstream,
    auth: d.auth,
    issuers: d.issuers,
    require: req && { roles: req.roles, groups: req.groups, scopes: req.scopes, claims: req.claims, ...(req.email_verified === true ? { emailVerified: true } : {}) },
    forwardToken: d.forward_token,
    stripPrefix: d.strip_prefix,
    timeoutMs: ms(d.timeout),
    upstreamConnections: d.upstream_connections,
  };
}

function login(d: LoginDoc, doc: ConfigDoc): LoginConfig {
  const { browser, cookie } = d;
  return {
    clientId: d.client_id,
    clientSecret: d.client_secret,
    scopes: d.scopes,
    issuer: d.issuer ?? doc.issuers[0]?.name ?? '',
    password: d.password && { path: d.password.path },
    browser: browser && {
      startPath: browser.start_path,
      callbackPath: browser.callback_path,
      logoutPath: browser.logout_path,
      postLogoutRedirectUri: browser.post_logout_redirect_uri,
      allowedRedirectHosts: browser.allowed_redirect_hosts,
    },
    cookie: {
      name: cookie.name ?? (typeof doc.tokens.cookie === 'string' ? doc.tokens.cookie : 'access_token'),
      maxAgeSec: Math.floor(ms(cookie.max_age) / 1000),
      secure: cookie.secure,
      sameSite: cookie.same_site,
      domain: cookie.domain ?? undefined,
    },
    cookieSecret: d.cookie_secret,
    rateLimit: { attempts: d.rate_limit.attempts, perMs: ms(d.rate_limit.per) },
  };
}

/** Builds the frozen RuntimeConfig; `file` is the config file's absolute path. */
export function compile(doc: ConfigDoc, file: string): RuntimeConfig {
  const dir = dirname(file);
  const authenticators = doc.authenticators.map((a): AuthenticatorConfig => {
    if (a.type === 'jwt') return { type: 'jwt' };
    return { type: 'module', path: resolve(dir, a.path ?? ''), options: a.options ?? {} };
  });
  return deepFreeze<RuntimeConfig>({
    file,
    mode: effectiveMode(doc),
    listen: address(doc.listen),
    admin: { listen: address(doc.admin.listen) },
    publicUrl: doc.public_url,
    issuers: doc.issuers.map(issuer),
    tokens: {
      header: doc.tokens.header,
      cookie: typeof doc.tokens.cookie === 'string' ? doc.tokens.cookie : false,
      query: doc.tokens.query,
    },
    authenticators,
    routes: doc.routes.map(route),
    forwardAuth: { path: doc.forward_auth.path, trustedSources: doc.forward_auth.trusted_sources, browserRedirect: doc.forward_auth.browser_redirect },
    login: doc.login && login(doc.login, doc),
    audit: {
      output: ['stdout', 'stderr'].includes(doc.audit.output) ? doc.audit.output : resolve(dir, doc.audit.output),
      allowed: doc.audit.allowed,
    },
    metrics: { tokenSeriesLimit: doc.metrics.token_series_limit },
    cache: { verifiedTokens: doc.cache.verified_tokens },
    trustForwardedHeaders: doc.trust_forwarded_headers,
    trustedProxies: doc.trusted_proxies,
    stripHeaders: [...new Set([...DEFAULT_STRIP_HEADERS, ...doc.strip_headers.map((h) => h.toLowerCase())])],
    shutdownTimeoutMs: ms(doc.shutdown_timeout),
    shutdownDelayMs: ms(doc.shutdown_delay),
    clientBodyTimeoutMs: ms(doc.client_body_timeout),
    workers: doc.workers,
  });
}
