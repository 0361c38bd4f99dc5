/**
 * Route selection with the real CLI: host first, then the longest prefix in any letter case;
 * config paths normalised like request paths; HEAD with GET; 405 with Allow instead of a
 * shorter prefix; routes[].issuers. Proxy and forward-auth judge alike.
 */
import t from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';

const h = await harness(t, {
  routes: `
  - name: admin
    match: { path: /admin }
    upstream: {{UPSTREAM}}
    require: { roles: [admin] }
  - name: reports
    match: { path: /reports, methods: [GET] }
    upstream: {{UPSTREAM}}
  - name: payroll
    match: { path: /café/payroll }
    upstream: {{UPSTREAM}}
    require: { roles: [admin] }
  - name: tilde
    match: { path: /%7Estaff }
    upstream: {{UPSTREAM}}
    require: { roles: [admin] }
  - name: strict-host
    match: { host: admin.example.com, path: / }
    upstream: {{UPSTREAM}}
    require: { roles: [admin] }
  - name: public
    match: { path: /public }
    upstream: {{UPSTREAM}}
    auth: public
  - name: staff
    match: { path: /staff }
    upstream: {{UPSTREAM}}
    issuers: [idp]
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`,
});
const user = await h.mintToken({ realm_access: { roles: ['user'] } });
const admin = await h.mintToken({ realm_access: { roles: ['admin'] } });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function get(path: string, token: string, opts: { method?: string; host?: string } = {}) {
  return http(`${h.sidecar.url}${path}`, {
    method: opts.method ?? 'GET',
    headers: { ...bearer(token), ...(opts.host ? { host: opts.host } : {}) },
  });
}

t.test('prefixes match in any letter case; the upstream gets the path as sent', async (t) => {
  for (const path of ['/admin/users', '/ADMIN/users', '/Admin/users', '/aDmIn']) {
    t.equal((await get(path, user)).status, 403, `${path} judged by the admin route`);
  }
  const ok = await get('/ADMIN/users', admin);
  t.equal(ok.status, 200);
  t.equal(ok.json<Echoed>().url, '/ADMIN/users', 'path kept as sent');
  t.equal((await get('/administrator', user)).status, 200, 'segment boundary: not the admin route');
});

t.test('config paths are normalised like request paths', async (t) => {
  t.equal((await get('/caf%C3%A9/payroll/2024', user)).status, 403, 'UTF-8 escape of the config path');
  t.equal((await get('/caf%c3%a9/PAYROLL', user)).status, 403, 'lower-case hex and other case');
  t.equal((await get('/caf%C3%A9//payroll/', user)).status, 403, 'doubled and trailing slashes');
  t.equal((await get('/~staff/x', user)).status, 403, 'an unreserved escape in the config is decoded');
  t.equal((await get('/%7Estaff/x', user)).status, 403, 'and in the request');
});

t.test('host-bound routes first, whatever the longer host-less prefix', async (t) => {
  t.equal((await get('/public/secret', user, { host: 'admin.example.com' })).status, 403, 'the strict host route judges /public there');
  t.equal((await get('/public/secret', '', { host: 'www.example.com' })).status, 200, 'public elsewhere');
  t.equal((await get('/public/secret', admin, { host: 'ADMIN.example.com:8080' })).status, 200);
});

t.test('HEAD takes a GET route; another method is 405 with Allow, never the catch-all', async (t) => {
  const head = await get('/reports/1', user, { method: 'HEAD' });
  t.equal(head.status, 200);
  for (const method of ['POST', 'DELETE', 'PUT']) {
    const refused = await get('/Reports/1', user, { method });
    t.equal(refused.status, 405, method);
    t.equal(refused.headers.allow, 'GET, HEAD');
    if (method !== 'HEAD') t.equal(refused.json().error, 'method_not_allowed');
  }
  const audited = await h.sidecar.waitForAudit((l) => l.reason === 'method_not_allowed', 3);
  t.equal(audited.length, 3, 'each refusal audited');
});

t.test('routes[].issuers: a token of another configured issuer is untrusted there', async (t) => {
  const other = await get('/staff', admin);
  t.equal(other.status, 401);
  t.equal(other.json().error, 'invalid_token');
  const [line] = await h.sidecar.waitForAudit((l) => l.route === 'staff' && l.reason === 'untrusted_issuer');
  t.ok(line, 'audited as untrusted_issuer');
  const staff = await get('/staff', await h.login('alice'));
  t.equal(staff.status, 200, 'the listed issuer is taken');
  t.equal((await get('/elsewhere', admin)).status, 200, 'other routes take every issuer');
});

t.test('forward-auth judges the same way', async (t) => {
  const verify = (method: string, uri: string, token: string, host = 'app.example.com') =>
    http(`${h.sidecar.url}/_auth/verify`, {
      headers: { ...bearer(token), 'x-forwarded-method': method, 'x-forwarded-uri': uri, 'x-forwarded-host': host, 'x-forwarded-proto': 'https' },
    });
  t.equal((await verify('GET', '/ADMIN/users', user)).status, 403);
  const refused = await verify('POST', '/reports', user);
  t.equal(refused.status, 405);
  t.equal(refused.headers.allow, 'GET, HEAD');
  t.equal((await verify('HEAD', '/reports', user)).status, 200);
  t.equal((await verify('GET', '/public/x', user, 'admin.example.com')).status, 403);
  t.equal((await verify('GET', '/staff', admin)).status, 401);
});
