import t from 'tap';
import { COOKIE_SECRET, assertNoLeak, startHarness } from '../support/login-harness.js';

const h = await startHarness({ login: '  rate_limit: { attempts: 3, per: 1m }\n' });
t.teardown(() => h.close());
const LOGIN = `${h.url}/_auth/login`;
const ALICE = { username: 'alice', password: 'alice-password' };

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function login(body: string | Record<string, string>, opts: { query?: string; headers?: Record<string, string>; contentType?: string; ip?: string } = {}): Promise<Answer> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${LOGIN}${opts.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': opts.contentType ?? 'application/json', ...opts.headers },
    body: payload,
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = {};
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Every secret a response or a log line must never hold. */
const secrets = [h.idp.clientSecret, COOKIE_SECRET, 'alice-password', 'wrong-password-123'];
const errorBodies: string[] = [];
const lastLogin = () => h.audit.filter((e) => e.event === 'login').at(-1);

t.test('success: body shape, the token verifies, no cookie without ?cookie=true', async (t) => {
  const before = await h.logins('password', 'success');
  const r = await login(ALICE);
  t.equal(r.status, 200);
  t.equal(r.headers.get('cache-control'), 'no-store');
  t.equal(r.headers.get('set-cookie'), null, 'no cookie');
  const token = (r.body.auth_token as Record<string, unknown>).access_token as string;
  t.match(r.body, {
    uuid: 'f3b0c2a4-0000-4000-8000-00000000a11c',
    email: 'alice@example.com',
    username: 'alice',
    groups: ['/acme/data'],
    roles: ['analyst', 'user', 'reports:read'],
    auth_token: { access_token: String, expires_in: Number, token_type: 'Bearer' },
  });
  t.same(Object.keys(r.body).sort(), ['auth_token', 'email', 'groups', 'roles', 'username', 'uuid']);
  const verified = await h.state().verifier.verify(token);
  t.ok(verified.ok, 'the returned token passes the verifier');
  const proxied = await fetch(`${h.url}/api`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(proxied.status, 200, 'and opens a protected route');
  t.equal(await h.logins('password', 'success'), before + 1, 'counted');
  const line = lastLogin();
  t.match(line, { event: 'login', kind: 'password', decision: 'allowed', user: 'f3b0c2a4-0000-4000-8000-00000000a11c', status: 200, path: '/_auth/login', method: 'POST' });
  t.equal(line?.reason, undefined);
  secrets.push(token);
});

t.test('form-encoded body works too', async (t) => {
  const r = await login('username=bob&password=bob-password', { contentType: 'application/x-www-form-urlencoded' });
  t.equal(r.status, 200);
  t.equal(r.body.username, 'bob');
});

t.test('?cookie=true sets exactly the auth cookie attributes and the sealed refresh cookie', async (t) => {
  const r = await login(ALICE, { query: '?cookie=true', headers: { origin: h.url, 'sec-fetch-site': 'same-origin' } });
  t.equal(r.status, 200);
  const token = (r.body.auth_token as Record<string, unknown>).access_token as string;
  const expiresIn = (r.body.auth_token as Record<string, unknown>).expires_in as number;
  t.ok(expiresIn > 0 && expiresIn <= 300, 'expires_in from the IdP (300 s)');
  const cookies = r.headers.getSetCookie();
  t.equal(cookies.length, 9, 'the auth cookie, the clearing of its 7 chunk names, the refresh cookie');
  t.equal(cookies[0], `access_token=${token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=${expiresIn}`);
  t.same(cookies.slice(1, 8).map((c) => c.split(';')[0]), [1, 2, 3, 4, 5, 6, 7].map((i) => `access_token_${i}=`), 'no stale chunk can be joined to this token');
  t.match(cookies[8], /^access_token_refresh=[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}; HttpOnly; Secure; SameSite=Strict; Path=\/; Max-Age=86400$/);
  const proxied = await fetch(`${h.url}/api`, { headers: { cookie: `access_token=${token}` } });
  t.equal(proxied.status, 200, 'the cookie opens a protected route');
  secrets.push(token);
});

t.test('login CSRF: cross-site ?cookie=true is refused before any IdP call, without cookies', async (t) => {
  const rows: ReadonlyArray<readonly [string, Record<string, string>]> = [
    ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site same-site (sibling subdomain)', { 'sec-fetch-site': 'same-site' }],
    ['foreign Origin', { origin: 'https://evil.example' }],
    ['Origin null', { origin: 'null' }],
    ['same host, other port', { origin: 'http://127.0.0.1:1' }],
    ['same host, other scheme', { origin: h.url.replace('http:', 'https:') }],
  ];
  for (const [description, headers] of rows) {
    const tokenCalls = h.idp.counters().token;
    const r = await login(ALICE, { query: '?cookie=true', headers });
    t.equal(r.status, 403, description);
    t.equal(r.body.error, 'forbidden', description);
    t.equal(r.headers.get('set-cookie'), null, `${description}: no Set-Cookie`);
    t.equal(h.idp.counters().token, tokenCalls, `${description}: no IdP call`);
    errorBodies.push(r.text);
  }
  t.match(lastLogin(), { event: 'login', kind: 'password', decision: 'denied', reason: 'forbidden_origin', status: 403 });
  const plain = await login(ALICE, { headers: { origin: 'https://evil.example' } });
  t.equal(plain.status, 200, 'without ?cookie=true the JSON answer is not a CSRF risk');
});

t.test('malformed requests: 400 / 405 / 413, no IdP call', async (t) => {
  const tokenCalls = h.idp.counters().token;
  const rows: ReadonlyArray<readonly [string, () => Promise<Answer>, number, string]> = [
    ['missing password', () => login({ username: 'alice' }), 400, 'invalid_request'],
    ['not JSON', () => login('{"username":'), 400, 'invalid_request'],
    ['text/plain', () => login(ALICE, { contentType: 'text/plain' }), 400, 'invalid_request'],
    ['username too long', () => login({ username: 'a'.repeat(1025), password: 'x' }), 400, 'invalid_request'],
    ['body over 16 KiB', () => login({ username: 'alice', password: 'x', pad: 'p'.repeat(17_000) }), 413, 'invalid_request'],
  ];
  for (const [description, call, status, error] of rows) {
    const r = await call();
    t.equal(r.status, status, description);
    t.equal(r.body.error, error, description);
    errorBodies.push(r.text);
  }
  const get = await fetch(LOGIN);
  t.equal(get.status, 405, 'GET is refused');
  t.equal(get.headers.get('allow'), 'POST');
  t.equal(h.idp.counters().token, tokenCalls, 'the IdP was never asked');
});

t.test('wrong password and unknown user: the same 401 invalid_grant', async (t) => {
  const wrong = await login({ username: 'bob', password: 'wrong-password-123' });
  const unknown = await login({ username: 'nobody-here', password: 'wrong-password-123' });
  for (const r of [wrong, unknown]) {
    t.equal(r.status, 401);
    t.equal(r.body.error, 'invalid_grant');
    t.match(r.headers.get('www-authenticate'), /^Bearer realm="portcullis", error="invalid_grant"/);
    errorBodies.push(r.text);
  }
  t.equal(wrong.body.error_description, unknown.body.error_description, 'indistinguishable descriptions');
  t.match(lastLogin(), { event: 'login', decision: 'denied', reason: 'invalid_grant', status: 401 });
  t.equal(lastLogin()?.user, undefined, 'no user on a failure');
});

t.test('rate limit: 429 with Retry-After after N failures, then no IdP calls', async (t) => {
  const victim = { username: 'Admin', password: 'wrong-password-123' };
  // bob and nobody-here failed above from this address: 2 failures for the IP already.
  const first = await login(victim);
  t.equal(first.status, 401, 'third failure of this IP still reaches the IdP');
  const tokenCalls = h.idp.counters().token;
  const limited = await login({ username: 'admin', password: 'admin-password' });
  t.equal(limited.status, 429, 'even correct credentials are refused while limited');
  t.equal(limited.body.error, 'rate_limited');
  const retryAfter = Number(limited.headers.get('retry-after'));
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} within the 1m window`);
  const again = await login(victim);
  t.equal(again.status, 429);
  t.equal(h.idp.counters().token, tokenCalls, 'no IdP call while limited');
  t.ok((await h.logins('password', 'rate_limited')) >= 2);
  t.match(lastLogin(), { reason: 'rate_limited', status: 429 });
  errorBodies.push(limited.text, again.text);
});

t.test('IdP down: 503 auth_unavailable', async (t) => {
  const other = await startHarness({ browser: false });
  t.teardown(() => other.close());
  const r0 = await fetch(`${other.url}/_auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ALICE) });
  t.equal(r0.status, 200, 'up: works (and caches the metadata)');
  await other.idp.close();
  const r = await fetch(`${other.url}/_auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ALICE) });
  t.equal(r.status, 503);
  const body = (await r.json()) as Record<string, unknown>;
  t.equal(body.error, 'auth_unavailable');
  t.ok(r.headers.get('retry-after'));
  t.equal(await other.logins('password', 'error'), 1);
});

t.test('IdP refuses the client: 503 and one operational line without secrets', async (t) => {
  const other = await startHarness({ browser: false, login: '' });
  t.teardown(() => other.close());
  const state = other.state();
  const wrongSecret = { ...state.config, login: { ...state.config.login!, clientSecret: 'a-wrong-client-secret-value' } };
  Object.defineProperty(state, 'config', { value: wrongSecret });
  const r = await fetch(`${other.url}/_auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ALICE) });
  t.equal(r.status, 503);
  const line = other.logs.find((l) => l.includes('idp_invalid_client'));
  t.ok(line, 'logged with the IdP error code');
  t.equal(assertNoLeak(other.logs.join('\n'), ['a-wrong-client-secret-value', other.idp.clientSecret, 'alice-password']), undefined);
});

t.test('no secret, password or token in any error body, audit line or log line', async (t) => {
  t.ok(errorBodies.length > 10);
  t.equal(assertNoLeak(errorBodies.join('\n'), secrets), undefined, 'error bodies');
  t.equal(assertNoLeak(JSON.stringify(h.audit), secrets), undefined, 'audit');
  t.equal(assertNoLeak(h.logs.join('\n'), secrets), undefined, 'operational log');
});
