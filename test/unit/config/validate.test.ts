// The schema pass: defaults are filled in, every error becomes a finding at the right path with
// an actionable message, unknown keys get a did-you-mean, and values are never quoted.
import t from 'tap';
import { unknownKeyMessage, validateSchema } from '../../../src/config/validate.js';

const ISSUER = { name: 'idp', issuer: 'https://idp.example.com' };

t.test('an empty document gets every default of docs/configuration.md', async (t) => {
  const result = validateSchema({});
  t.ok(result.ok);
  if (!result.ok) return;
  t.same(result.doc, {
    mode: 'auto',
    listen: '0.0.0.0:8080',
    admin: { listen: '127.0.0.1:9090' },
    issuers: [],
    tokens: { header: true, cookie: 'access_token', query: false },
    authenticators: [{ type: 'jwt' }],
    routes: [],
    forward_auth: { path: '/_auth/verify', trusted_sources: [], browser_redirect: 'auto' },
    audit: { output: 'stdout', allowed: true },
    metrics: { token_series_limit: 1000 },
    cache: { verified_tokens: 10000 },
    trust_forwarded_headers: false,
    trusted_proxies: [],
    strip_headers: [],
    shutdown_timeout: '10s',
    shutdown_delay: '0s',
    client_body_timeout: '30s',
    workers: 1,
  });
});

t.test('issuer, route and login sections get their defaults; optional parts stay absent', async (t) => {
  const result = validateSchema({
    issuers: [ISSUER],
    routes: [{ name: 'r', match: { path: '/' } }],
    login: { client_id: 'c' },
  });
  if (!result.ok) {
    t.fail('should be valid');
    return;
  }
  const [issuer] = result.doc.issuers;
  t.same(issuer, {
    ...ISSUER,
    audiences: [],
    algorithms: ['RS256'],
    clock_skew: '30s',
    jwks: { refresh_interval: '10m', min_refresh_interval: '30s', timeout: '5s', max_stale: '24h' },
    claims: {
      user: 'sub', email: 'email', username: 'preferred_username', groups: 'groups',
      roles: ['realm_access.roles', 'resource_access.*.roles'],
    },
  });
  t.same(result.doc.routes[0], {
    name: 'r', match: { path: '/' }, auth: 'required', forward_token: false, strip_prefix: false, timeout: '60s', upstream_connections: 128,
  });
  t.same(result.doc.login, {
    client_id: 'c',
    scopes: ['openid', 'profile', 'email'],
    cookie: { max_age: '24h', secure: true, same_site: 'Strict' },
    rate_limit: { attempts: 10, per: '1m' },
  });
});

const rows: [string, unknown, { path: (string | number)[]; message: string; atKey?: boolean }[]][] = [
  ['an unknown top-level key near a known one', { lisen: 'x' }, [
    { path: ['lisen'], message: 'unknown key; did you mean "listen"?', atKey: true },
  ]],
  ['an unknown nested key far from any known one', { admin: { port: 1 } }, [
    { path: ['admin', 'port'], message: 'unknown key; remove it or check the spelling', atKey: true },
  ]],
  ['a missing required key is reported on its parent', { issuers: [{ issuer: 'https://a' }] }, [
    { path: ['issuers', 0], message: 'missing required key "name"; add name: to this mapping' },
  ]],
  ['a wrong type names the expected and the given kind', { trust_forwarded_headers: 'yes' }, [
    { path: ['trust_forwarded_headers'], message: 'must be a boolean (true or false), not a string; change the value' },
  ]],
  ['a number where text is expected is read as text (then judged as text)', { listen: 8080 }, [
    { path: ['listen'], message: 'invalid listen address; write host:port, e.g. 0.0.0.0:8080 or [::1]:8080' },
  ]],
  ['an empty section suggests {}', { admin: null }, [
    { path: ['admin'], message: 'must be a mapping, not an empty value; change the value (write {} for an empty mapping)' },
  ]],
  ['a fraction where a whole number is expected', { workers: 1.5 }, [
    { path: ['workers'], message: 'must be a whole number, not a number; change the value' },
  ]],
  ['an enum lists its allowed values', { mode: 'sidecar' }, [
    { path: ['mode'], message: 'invalid value; use one of: auto, proxy, forward_auth' },
  ]],
  ['a bad duration string', { shutdown_timeout: '10 s' }, [
    { path: ['shutdown_timeout'], message: 'invalid duration; write e.g. 500ms, 30s, 10m, 24h, 1h30m or a number of seconds' },
  ]],
  ['a negative duration number', { shutdown_timeout: -1 }, [
    { path: ['shutdown_timeout'], message: 'invalid duration; write e.g. 500ms, 30s, 10m, 24h, 1h30m or a number of seconds' },
  ]],
  ['a listen address without a port', { listen: 'localhost' }, [
    { path: ['listen'], message: 'invalid listen address; write host:port, e.g. 0.0.0.0:8080 or [::1]:8080' },
  ]],
  ['a listen port above 65535', { admin: { listen: '127.0.0.1:65536' } }, [
    { path: ['admin', 'listen'], message: 'invalid listen address; write host:port, e.g. 0.0.0.0:8080 or [::1]:8080' },
  ]],
  ['too many workers', { workers: 65 }, [{ path: ['workers'], message: 'must be at most 64; lower the value' }]],
  ['an empty algorithm list', { issuers: [{ ...ISSUER, algorithms: [] }] }, [
    { path: ['issuers', 0, 'algorithms'], message: 'must not be an empty list; add an entry or remove the key' },
  ]],
  ['an empty string', { audit: { output: '' } }, [
    { path: ['audit', 'output'], message: 'must not be empty; write a value or remove the key' },
  ]],
  ['a cookie same_site outside Strict|Lax|None', { login: { client_id: 'c', cookie: { same_site: 'strict' } } }, [
    { path: ['login', 'cookie', 'same_site'], message: 'invalid value; use one of: Strict, Lax, None' },
  ]],
  ['every error at once', { workers: 0, mode: 'x', extra: 1 }, [
    { path: ['extra'], message: 'unknown key; remove it or check the spelling', atKey: true },
    { path: ['mode'], message: 'invalid value; use one of: auto, proxy, forward_auth' },
    { path: ['workers'], message: 'must be at least 1; raise the value' },
  ]],
];

for (const [description, input, expected] of rows) {
  t.test(description, async (t) => {
    const result = validateSchema(input);
    t.same(result.ok ? [] : [...result.findings].sort((a, b) => String(a.path).localeCompare(String(b.path))), expected);
  });
}

t.test('messages never quote the offending value', async (t) => {
  const secret = 'hunter2-secret-value';
  const result = validateSchema({ mode: secret, listen: secret, shutdown_timeout: secret, workers: secret });
  t.notOk(result.ok);
  if (result.ok) return;
  t.equal(result.findings.length, 4);
  for (const f of result.findings) t.notMatch(f.message, secret);
});

const suggestions: [string, string, string[], string][] = [
  ['one typo', 'rolez', ['roles', 'groups'], 'unknown key; did you mean "roles"?'],
  ['two edits', 'lisen_', ['listen'], 'unknown key; did you mean "listen"?'],
  ['case does not count as an edit', 'Listen', ['listen'], 'unknown key; did you mean "listen"?'],
  ['the closest of several', 'scope', ['scopes', 'cope'], 'unknown key; did you mean "scopes"?'],
  ['three edits is too far', 'lstnx', ['listen'], 'unknown key; remove it or check the spelling'],
  ['no known keys', 'x', [], 'unknown key; remove it or check the spelling'],
];
for (const [description, key, known, expected] of suggestions) {
  t.equal(unknownKeyMessage(key, known), expected, `did-you-mean: ${description}`);
}
