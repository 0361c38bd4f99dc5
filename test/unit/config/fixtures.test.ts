// Config fixtures: every invalid/X.yaml yields exactly the lines of X.expected (as
// `portcullis check` prints them), and every valid/*.yaml loads with the compiled values its
// row asserts.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { formatProblem, loadConfigText } from '../../../src/config/index.js';
import type { RuntimeConfig } from '../../../src/config/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENV = {
  OIDC_CLIENT_SECRET: 'client-secret-from-env',
  COOKIE_SECRET: 'cookie-secret-0123456789abcdef-0123',
  JWT_SECRET: 'jwt-secret-0123456789abcdef-0123456789',
};

function load(folder: string, name: string, env: NodeJS.ProcessEnv) {
  const file = `test/fixtures/config/${folder}/${name}`;
  return { file, result: loadConfigText(readFileSync(`${ROOT}${file}`, 'utf8'), file, env) };
}

const invalid = readdirSync(`${ROOT}test/fixtures/config/invalid`).filter((f) => f.endsWith('.yaml')).sort();
t.ok(invalid.length >= 12, 'at least 12 invalid fixtures');
for (const name of invalid) {
  t.test(`invalid/${name}`, async (t) => {
    const { file, result } = load('invalid', name, {});
    const expected = readFileSync(`${ROOT}${file.replace(/\.yaml$/, '.expected')}`, 'utf8');
    t.equal(result.ok, false);
    const lines = result.ok ? [] : result.problems.map(formatProblem);
    t.equal(`${lines.join('\n')}\n`, expected);
  });
}

const valid: Record<string, (c: RuntimeConfig) => unknown[][]> = {
  'minimal.yaml': (c) => [
    [c.mode, 'forward_auth'],
    [c.issuers.map((i) => [i.name, i.issuer, i.jwksUri, i.algorithms]), [['keycloak', 'https://kc.example.com/realms/acme', undefined, ['RS256']]]],
    [c.routes, []],
    [c.listen, { host: '0.0.0.0', port: 8080 }],
  ],
  'full.yaml': (c) => [
    [c.mode, 'proxy'],
    [c.listen, { host: '0.0.0.0', port: 8080 }],
    [c.publicUrl, 'https://app.example.com'],
    [c.issuers[0]?.audiences, ['api']],
    [c.issuers[0]?.jwksUri, 'https://kc.example.com/realms/acme/protocol/openid-connect/certs'],
    [c.authenticators[1], { type: 'module', path: `${ROOT}test/fixtures/config/valid/plugins/api-keys.js`, options: { header: 'x-api-key', keys: ['a', 'b'] } }],
    [c.routes[0]?.match, { host: 'query.example.com', path: '/query', methods: ['GET', 'POST'] }],
    [c.routes[0]?.require, { roles: ['analyst', 'admin'], groups: ['/acme/data'], scopes: ['query:read'], claims: { org: 'acme' } }],
    [c.login?.clientSecret, ENV.OIDC_CLIENT_SECRET],
    [c.login?.cookieSecret, ENV.COOKIE_SECRET],
    [c.login?.cookie, { name: 'access_token', maxAgeSec: 86_400, secure: true, sameSite: 'Strict', domain: undefined }],
    [c.login?.rateLimit, { attempts: 10, perMs: 60_000 }],
    [c.login?.browser?.callbackPath, '/_auth/callback'],
    [c.shutdownTimeoutMs, 10_000],
  ],
  'forward-auth.yaml': (c) => [
    [c.mode, 'forward_auth'],
    [c.listen, { host: '::1', port: 0 }],
    [c.routes.map((r) => [r.name, r.auth, r.upstream, r.match.host, r.match.path]), [['public', 'public', undefined, undefined, '/public'], ['api', 'optional', undefined, '*.api.example.com', '/']]],
    [c.forwardAuth, { path: '/verify', trustedSources: ['10.0.0.0/8', '127.0.0.1', 'fd00::/8'], browserRedirect: 'auto' }],
    [c.stripHeaders.slice(0, 2), ['x-forwarded-user', 'x-forwarded-email']],
    [c.stripHeaders.includes('x-remote-user'), true],
    [c.workers, 4],
    [c.audit, { output: `${ROOT}test/fixtures/config/valid/logs/audit.log`, allowed: false }],
  ],
  'hs256.yaml': (c) => [
    [c.mode, 'proxy'],
    [c.issuers[0]?.algorithms, ['HS256', 'HS512']],
    [c.issuers[0]?.secret, ENV.JWT_SECRET],
    [c.issuers[0]?.clockSkewSec, 0],
    [c.routes[0]?.timeoutMs, 90_000],
    [c.tokens, { header: true, cookie: false, query: true }],
    [c.shutdownTimeoutMs, 2500],
  ],
  'jwks-only.yaml': (c) => [
    [c.issuers[0]?.issuer, undefined],
    [c.issuers[0]?.jwksUri, 'https://keys.example.com/.well-known/jwks.json'],
    [c.issuers[0]?.algorithms, ['ES256', 'EdDSA']],
    [c.issuers[0]?.jwks, { refreshIntervalMs: 3_600_000, minRefreshIntervalMs: 1500, timeoutMs: 2000, maxStaleMs: 86_400_000 }],
  ],
  'login.yaml': (c) => [
    [c.login?.issuer, 'customers'],
    [c.login?.password, { path: '/_auth/login' }],
    [c.login?.browser, { startPath: '/_auth/start', callbackPath: '/_auth/callback', logoutPath: '/_auth/logout', allowedRedirectHosts: ['docs.example.com'] }],
    [c.login?.cookie, { name: 'session', maxAgeSec: 28_800, secure: true, sameSite: 'Lax', domain: 'example.com' }],
    [c.login?.rateLimit, { attempts: 5, perMs: 600_000 }],
    [c.issuers[1]?.claims.roles, ['roles']],
    [[c.routes[0]?.forwardToken, c.routes[0]?.stripPrefix], [true, true]],
  ],
};

const validFiles = readdirSync(`${ROOT}test/fixtures/config/valid`).filter((f) => f.endsWith('.yaml')).sort();
t.same(validFiles, Object.keys(valid).sort(), 'every valid fixture has a row');
for (const [name, expect] of Object.entries(valid)) {
  t.test(`valid/${name}`, async (t) => {
    const { result } = load('valid', name, ENV);
    if (!result.ok) {
      t.fail(result.problems.map(formatProblem).join('\n'));
      return;
    }
    t.equal(result.config.file, `${ROOT}test/fixtures/config/valid/${name}`);
    for (const [actual, expected] of expect(result.config)) t.same(actual, expected);
  });
}
