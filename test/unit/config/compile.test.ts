// The compile pass: defaults become RuntimeConfig values in ms/s, the mode is derived, route
// matches are normalised, relative paths are resolved, and the result is deep-frozen.
import t from 'tap';
import { compile } from '../../../src/config/compile.js';
import type { RuntimeConfig } from '../../../src/config/index.js';
import { validateSchema } from '../../../src/config/validate.js';
import { DEFAULT_STRIP_HEADERS } from '../../../src/config/schema.js';

const FILE = '/etc/portcullis/portcullis.yaml';
const ISSUER = { name: 'idp', issuer: 'https://idp.example.com' };

function build(input: Record<string, unknown>): RuntimeConfig {
  const result = validateSchema({ issuers: [ISSUER], ...input });
  if (!result.ok) throw new Error(JSON.stringify(result.findings));
  return compile(result.doc, FILE);
}

t.test('defaults compile to the documented runtime values', async (t) => {
  const c = build({});
  t.equal(c.file, FILE);
  t.equal(c.mode, 'forward_auth');
  t.same(c.listen, { host: '0.0.0.0', port: 8080 });
  t.same(c.admin.listen, { host: '127.0.0.1', port: 9090 });
  t.equal(c.publicUrl, undefined);
  t.same(c.tokens, { header: true, cookie: 'access_token', query: false });
  t.same(c.authenticators, [{ type: 'jwt' }]);
  t.same(c.forwardAuth, { path: '/_auth/verify', trustedSources: [], browserRedirect: 'auto' });
  t.equal(c.login, undefined);
  t.same(c.audit, { output: 'stdout', allowed: true });
  t.same(c.metrics, { tokenSeriesLimit: 1000 });
  t.same(c.cache, { verifiedTokens: 10000 });
  t.equal(c.trustForwardedHeaders, false);
  t.equal(c.shutdownTimeoutMs, 10_000);
  t.equal(c.workers, 1);
  t.equal(c.stripHeaders.length, 11);
  t.same(c.issuers[0], {
    name: 'idp',
    issuer: 'https://idp.example.com',
    jwksUri: undefined,
    audiences: [],
    algorithms: ['RS256'],
    clockSkewSec: 30,
    jwks: { refreshIntervalMs: 600_000, minRefreshIntervalMs: 30_000, timeoutMs: 5000, maxStaleMs: 86_400_000 },
    claims: {
      user: 'sub', email: 'email', username: 'preferred_username', groups: 'groups',
      roles: ['realm_access.roles', 'resource_access.*.roles'],
    },
    secret: undefined,
    allowHttp: false,
  });
});

const modes: [string, Record<string, unknown>, 'proxy' | 'forward_auth'][] = [
  ['auto without routes is forward_auth', {}, 'forward_auth'],
  ['auto with a route naming an upstream is proxy', { routes: [{ name: 'r', match: { path: '/' }, upstream: 'http://u' }] }, 'proxy'],
  ['auto with routes without upstream is forward_auth', { routes: [{ name: 'r', match: { path: '/' } }] }, 'forward_auth'],
  ['explicit proxy stays proxy', { mode: 'proxy' }, 'proxy'],
  ['explicit forward_auth stays forward_auth even with an upstream', { mode: 'forward_auth', routes: [{ name: 'r', match: { path: '/' }, upstream: 'http://u' }] }, 'forward_auth'],
];
for (const [description, input, expected] of modes) {
  t.equal(build(input).mode, expected, `mode: ${description}`);
}

const paths: [string, string, string][] = [
  ['a trailing slash is removed', '/query/', '/query'],
  ['several trailing slashes are removed', '/query//', '/query'],
  ['the root stays the root', '/', '/'],
  ['a path without trailing slash is kept', '/api/v1', '/api/v1'],
];
for (const [description, input, expected] of paths) {
  t.equal(build({ routes: [{ name: 'r', match: { path: input } }] }).routes[0]?.match.path, expected, `route path: ${description}`);
}

t.test('route match host is lower-cased, methods upper-cased, durations in ms', async (t) => {
  const [route] = build({
    routes: [{ name: 'r', match: { path: '/', host: '*.Example.COM', methods: ['get', 'Post'] }, timeout: '1m30s', require: { roles: ['a'] } }],
  }).routes;
  t.same(route, {
    name: 'r',
    match: { host: '*.example.com', path: '/', methods: ['GET', 'POST'] },
    upstream: undefined,
    auth: 'required',
    require: { roles: ['a'], groups: [], scopes: [], claims: {} },
    forwardToken: false,
    stripPrefix: false,
    timeoutMs: 90_000,
    upstreamConnections: 128,
  });
});

t.test('listen addresses: IPv6 brackets are removed, port 0 is kept', async (t) => {
  const c = build({ listen: '[::1]:0', admin: { listen: 'localhost:19090' } });
  t.same(c.listen, { host: '::1', port: 0 });
  t.same(c.admin.listen, { host: 'localhost', port: 19090 });
});

t.test('module paths and audit files resolve against the config folder', async (t) => {
  const c = build({
    authenticators: [{ type: 'module', path: './plugins/keys.js', options: { a: 1 } }, { type: 'jwt' }],
    audit: { output: 'audit/portcullis.log' },
  });
  t.same(c.authenticators, [{ type: 'module', path: '/etc/portcullis/plugins/keys.js', options: { a: 1 } }, { type: 'jwt' }]);
  t.equal(c.audit.output, '/etc/portcullis/audit/portcullis.log');
  t.equal(build({ audit: { output: 'stderr' } }).audit.output, 'stderr');
  t.equal(build({ audit: { output: '/var/log/a.log' } }).audit.output, '/var/log/a.log');
});

t.test('login defaults: cookie name from tokens.cookie, first issuer, seconds and ms', async (t) => {
  const c = build({ tokens: { cookie: 'sess' }, login: { client_id: 'c', password: {}, browser: {}, cookie: { domain: null } } });
  t.same(c.login, {
    clientId: 'c',
    clientSecret: undefined,
    scopes: ['openid', 'profile', 'email'],
    issuer: 'idp',
    password: { path: '/_auth/login' },
    browser: { startPath: '/_auth/start', callbackPath: '/_auth/callback', logoutPath: '/_auth/logout', allowedRedirectHosts: [] },
    cookie: { name: 'sess', maxAgeSec: 86_400, secure: true, sameSite: 'Strict', domain: undefined },
    cookieSecret: undefined,
    rateLimit: { attempts: 10, perMs: 60_000 },
  });
  t.equal(build({ tokens: { cookie: false }, login: { client_id: 'c' } }).login?.cookie.name, 'access_token', 'access_token when tokens.cookie is false');
  t.equal(build({ login: { client_id: 'c' } }).login?.password, undefined, 'password login off when absent');
});

t.test('strip headers are lower-cased and added to the built-in list; tokens.cookie false stays false', async (t) => {
  const c = build({ strip_headers: ['X-User', 'X-WebAuth-User'], tokens: { cookie: false } });
  t.same(c.stripHeaders, [...DEFAULT_STRIP_HEADERS, 'x-webauth-user']);
  t.equal(c.tokens.cookie, false);
});

t.test('the runtime config is deep-frozen', async (t) => {
  const c = build({
    routes: [{ name: 'r', match: { path: '/', methods: ['GET'] }, require: { claims: { org: { id: 1 } } } }],
    authenticators: [{ type: 'module', path: './p.js', options: { nested: { list: [1] } } }],
    login: { client_id: 'c' },
  });
  const reachable: unknown[] = [
    c, c.listen, c.issuers, c.issuers[0], c.issuers[0]?.claims.roles, c.routes[0]?.match.methods,
    c.routes[0]?.require?.claims.org, c.authenticators[0], c.login?.cookie, c.stripHeaders,
  ];
  const module = c.authenticators[0];
  if (module?.type === 'module') reachable.push(module.options.nested);
  for (const value of reachable) t.ok(Object.isFrozen(value));
  t.throws(() => {
    (c.listen as { port: number }).port = 1;
  }, TypeError);
});
