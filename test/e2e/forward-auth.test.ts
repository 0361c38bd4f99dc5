/**
 * The forward-auth endpoint end to end (nginx auth_request, Traefik ForwardAuth, Envoy
 * ext_authz): the original request is rebuilt from X-Forwarded-* / X-Original-* and judged by
 * the same pipeline as the proxy. Never a 2xx on malformed input (Authelia CVE-2021-32637).
 */
import t from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';

const ROUTES = `
  - name: public
    match: { path: /public }
    auth: public
  - name: admin
    match: { path: /admin }
    require: { roles: [admin] }
  - name: fwd
    match: { path: /fwd }
    forward_token: true
  - name: api
    match: { host: api.example.com, path: / }
  - name: wild
    match: { host: "*.apps.example.com", path: / }
`;

const h = await harness(t, { routes: ROUTES, extra: 'mode: forward_auth\n' });
const alice = await h.login('alice');
const verify = `${h.sidecar.url}/_auth/verify`;
const traefik = (uri: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'x-forwarded-method': 'GET',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'api.example.com',
  'x-forwarded-uri': uri,
  ...extra,
});

t.test('Traefik headers, valid token: 200 with identity headers and a bounded cache lifetime', async (t) => {
  const res = await http(verify, { headers: traefik('/orders?id=1', { authorization: `Bearer ${alice}` }) });
  t.equal(res.status, 200);
  const user = h.idp.users.find((u) => u.username === 'alice')!;
  t.equal(res.headers['x-auth-request-user'], user.id);
  t.equal(res.headers['x-auth-request-email'], user.email);
  t.equal(res.headers['x-auth-request-preferred-username'], 'alice');
  t.equal(res.headers['x-auth-request-groups'], user.groups.join(','));
  t.equal(res.headers['x-auth-request-access-token'], undefined, 'token only where the route forwards it');
  const maxAge = Number(/private, max-age=(\d+)/.exec(String(res.headers['cache-control']))?.[1]);
  t.ok(maxAge > 0 && maxAge <= 60, `max-age ${maxAge} bounded`);
});

t.test('the 200 answer carries the request cookies without portcullis\' own, for the proxy to pass on', async (t) => {
  const cookie = `app=1; access_token=${alice}; access_token_refresh=sealed; portcullis_flow_abcdefgh=f; access_token_x=keep`;
  const res = await http(verify, { headers: traefik('/orders', { cookie }) });
  t.equal(res.status, 200, 'the auth cookie authenticates');
  t.equal(res.headers.cookie, 'app=1; access_token_x=keep');
  const only = await http(verify, { headers: traefik('/orders', { cookie: `access_token=${alice}` }) });
  t.equal(only.headers.cookie, '', 'an empty Cookie when none of the application\'s is left');
  const none = await http(verify, { headers: traefik('/orders', { authorization: `Bearer ${alice}` }) });
  t.equal(none.headers.cookie, undefined, 'no Cookie answer without request cookies');
});

t.test('nginx headers (X-Original-URI / X-Original-Method with Host)', async (t) => {
  const ok = await http(verify, {
    headers: { host: 'api.example.com', 'x-original-uri': '/x', 'x-original-method': 'POST', authorization: `Bearer ${alice}` },
  });
  t.equal(ok.status, 200);
  const none = await http(verify, { headers: { host: 'api.example.com', 'x-original-uri': '/x' } });
  t.equal(none.status, 401);
  t.equal(none.headers['www-authenticate'], 'Bearer realm="portcullis"');
});

t.test('X-Original-URL (full URL) is read too', async (t) => {
  const res = await http(verify, { headers: { 'x-original-url': 'https://api.example.com/x?y=1', authorization: `Bearer ${alice}` } });
  t.equal(res.status, 200);
});

t.test('forward_token route answers X-Auth-Request-Access-Token', async (t) => {
  const res = await http(verify, { headers: traefik('/fwd/data', { 'x-forwarded-host': 'any.example.com', authorization: `Bearer ${alice}` }) });
  t.equal(res.status, 200);
  t.equal(res.headers['x-auth-request-access-token'], alice);
});

const cases: Array<[string, Record<string, string>, number, string | undefined]> = [
  ['public route without a token', traefik('/public/x', { 'x-forwarded-host': 'any.example.com' }), 200, undefined],
  ['no original URI at all', { 'x-forwarded-host': 'api.example.com' }, 400, 'invalid_request'],
  ['unparseable X-Original-URL', { 'x-original-url': 'http://[::1', host: 'api.example.com' }, 400, 'invalid_request'],
  ['X-Original-URL with another scheme', { 'x-original-url': 'javascript:alert(1)' }, 400, 'invalid_request'],
  ['encoded slash in the URI', traefik('/public%2F..%2Fadmin'), 400, 'invalid_request'],
  ['dot segments climbing above root', traefik('/../admin'), 400, 'invalid_request'],
  ['backslash in the URI', traefik('/public\\..\\admin'), 400, 'invalid_request'],
  ['URI not starting with a slash', traefik('admin'), 400, 'invalid_request'],
  ['fragment smuggling', traefik('/public#/../admin'), 400, 'invalid_request'],
  ['bogus method', traefik('/x', { 'x-forwarded-method': 'GET /admin' }), 400, 'invalid_request'],
  ['bogus forwarded proto', traefik('/x', { 'x-forwarded-proto': 'gopher' }), 400, 'invalid_request'],
  ['bogus forwarded host', traefik('/x', { 'x-forwarded-host': 'evil.com/admin' }), 400, 'invalid_request'],
  ['no route for the host', traefik('/x', { 'x-forwarded-host': 'other.example.org' }), 404, 'not_found'],
  ['X-Forwarded-Uri and X-Original-URI disagree', traefik('/x', { 'x-original-uri': '/public/x' }), 400, 'invalid_request'],
  ['X-Forwarded-Method and X-Original-Method disagree', traefik('/x', { 'x-original-method': 'POST' }), 400, 'invalid_request'],
  ['X-Original-URI and X-Original-URL disagree', { host: 'api.example.com', 'x-original-uri': '/public/x', 'x-original-url': 'https://api.example.com/admin' }, 400, 'invalid_request'],
  ['wildcard host needs a real subdomain', traefik('/x', { 'x-forwarded-host': 'apps.example.com' }), 404, 'not_found'],
  ['query string cannot widen a rule', traefik('/admin?/public'), 401, 'unauthorized'],
  ['without browser login a browser gets 401, not a redirect', traefik('/x', { accept: 'text/html;q=0.5, application/json' }), 401, 'unauthorized'],
];
for (const [name, headers, status, error] of cases) {
  t.test(`${name} → ${status}`, async (t) => {
    const res = await http(verify, { headers });
    t.equal(res.status, status);
    if (error) t.equal(res.json().error, error);
    if (status !== 200) t.equal(res.headers['x-auth-request-user'], undefined);
  });
}

t.test('wildcard host matches a real subdomain', async (t) => {
  const res = await http(verify, { headers: traefik('/x', { 'x-forwarded-host': 'a.apps.example.com', authorization: `Bearer ${alice}` }) });
  t.equal(res.status, 200);
});

t.test('authorisation failure is 403', async (t) => {
  const res = await http(verify, { headers: traefik('/admin', { 'x-forwarded-host': 'x.example.com', authorization: `Bearer ${alice}` }) });
  t.equal(res.status, 403);
  t.equal(res.json().error, 'insufficient_scope');
});

t.test('a malformed auth cookie is 401, never 200 (authentik CVE-2026-25748)', async (t) => {
  for (const cookie of ['access_token=', 'access_token=%', 'access_token=a.b.c', 'access_token="x', `access_token=${'A'.repeat(9000)}`]) {
    const res = await http(verify, { headers: traefik('/x', { cookie }) });
    t.equal(res.status, 401, cookie.slice(0, 30));
  }
});

t.test('X-Original-URI and X-Original-URL that agree are accepted (ingress-nginx style)', async (t) => {
  const res = await http(verify, {
    headers: { host: 'api.example.com', 'x-original-uri': '/x?y=1', 'x-original-url': 'https://api.example.com/x?y=1', authorization: `Bearer ${alice}` },
  });
  t.equal(res.status, 200);
});

t.test('trusted_sources: callers outside the list get 403', async (t) => {
  const h2 = await harness(t, { routes: ROUTES, extra: 'mode: forward_auth\ntrust_forwarded_headers: true\nforward_auth:\n  trusted_sources: [10.0.0.0/8]\n' });
  const res = await http(`${h2.sidecar.url}/_auth/verify`, { headers: traefik('/x', { authorization: `Bearer ${alice}` }) });
  t.equal(res.status, 403);
  t.equal(res.json().error, 'forbidden');
  const spoofed = await http(`${h2.sidecar.url}/_auth/verify`, { headers: traefik('/x', { authorization: `Bearer ${alice}`, 'x-forwarded-for': '10.1.2.3' }) });
  t.equal(spoofed.status, 403, 'X-Forwarded-For never makes a caller trusted');
});
