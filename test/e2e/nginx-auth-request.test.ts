/**
 * A real nginx with examples/nginx/portcullis.conf (addresses rewritten) asks the built
 * portcullis (forward-auth only) for every request through `auth_request`, in front of the echo
 * upstream. Each test asserts nginx's answer and what the upstream saw, or that it saw nothing.
 * Without nginx this file fails: the example must be proven, not skipped.
 */
import t from 'tap';
import { request } from 'node:http';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';
import { findNginx, startNginx } from '../support/nginx.js';

const ROUTES = `
  - name: public
    match: { path: /public }
    auth: public
  - name: admin
    match: { path: /admin }
    require: { roles: [admin] }
  - name: reports-write
    match: { path: /reports, methods: [POST] }
    require: { roles: [admin] }
  - name: reports-read
    match: { path: /reports, methods: [GET] }
  - name: app
    match: { path: / }
`;

if (findNginx() === undefined) {
  t.fail('nginx is required for this test and was not found; install it: apt-get install -y nginx');
} else {
  await suite();
}

async function suite(): Promise<void> {
  // nginx reaches portcullis from 127.0.0.1, the test client reaches nginx from 127.0.0.2.
  const h = await harness(t, { routes: ROUTES, extra: 'trusted_proxies: [127.0.0.1]\n' });
  const nginx = await startNginx({ sidecar: new URL(h.sidecar.url).host, app: new URL(h.upstream.url).host });
  t.teardown(() => nginx.close());
  const alice = await h.login('alice');
  const admin = await h.login('admin');
  const aliceUser = h.idp.users.find((u) => u.username === 'alice')!;
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const get = (path: string, headers: Record<string, string> = {}): ReturnType<typeof http> =>
    http(`${nginx.url}/`, { rawPath: path, headers });

  t.beforeEach(() => h.upstream.reset());
  const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  t.test('the sidecar runs forward-auth only, so nginx is the only way to the upstream', async (t) => {
    const direct = await http(`${h.sidecar.url}/hello`, { headers: bearer(alice) });
    t.equal(direct.status, 404, 'no proxy route on the sidecar');
    t.equal(h.upstream.requests().length, 0);
  });

  t.test('a real IdP token: 200 from the upstream with identity headers set by nginx from the decision', async (t) => {
    const res = await get('/hello?x=1', { ...bearer(alice), 'x-auth-request-user': 'mallory', 'x-auth-request-roles': 'admin' });
    t.equal(res.status, 200);
    const seen = res.json<Echoed>();
    t.equal(seen.url, '/hello?x=1');
    t.equal(seen.headers['x-auth-request-user'], aliceUser.id, 'the client copy is replaced');
    t.equal(seen.headers['x-auth-request-email'], aliceUser.email);
    t.equal(seen.headers['x-auth-request-preferred-username'], 'alice');
    t.equal(seen.headers['x-auth-request-groups'], aliceUser.groups.join(','));
    t.match(String(seen.headers['x-auth-request-roles']), /analyst/);
    t.notMatch(String(seen.headers['x-auth-request-roles']), /admin/, 'the client roles are replaced');
    t.equal(h.upstream.requests().length, 1, 'the auth subrequest never reaches the upstream');
  });

  t.test("portcullis' own cookies never reach the application; the others do", async (t) => {
    const cookie = `access_token=${alice}; access_token_refresh=sealed; portcullis_flow_abcd1234=flow; theme=dark`;
    const res = await get('/hello', { cookie });
    t.equal(res.status, 200, 'the auth cookie authenticates the request');
    t.equal(res.json<Echoed>().headers.cookie, 'theme=dark', 'only the application cookie is passed on');
    const ownOnly = await get('/hello', { ...bearer(alice), cookie: 'access_token_refresh=sealed; portcullis_flow_abcd1234=flow' });
    t.equal(ownOnly.status, 200);
    t.notOk(ownOnly.json<Echoed>().headers.cookie, 'no Cookie header is left');
  });

  t.test('public route: no token needed, and a client X-Auth-Request-User does not get through', async (t) => {
    const res = await get('/public/page', { 'x-auth-request-user': 'mallory' });
    t.equal(res.status, 200);
    t.equal(res.json<Echoed>().headers['x-auth-request-user'], undefined);
  });

  t.test('no token: 401 JSON with the bare challenge from portcullis; the upstream saw nothing', async (t) => {
    const res = await get('/hello', { 'x-auth-request-user': 'admin' });
    t.equal(res.status, 401);
    t.equal(res.headers['www-authenticate'], 'Bearer realm="portcullis"');
    t.equal(res.json().error, 'unauthorized');
    t.equal(h.upstream.requests().length, 0);
  });

  t.test('no token from a browser, browser login off: 401, no redirect to a login that does not exist', async (t) => {
    const res = await get('/hello/page?tab=2', { accept: 'text/html,application/xhtml+xml' });
    t.equal(res.status, 401);
    t.equal(h.upstream.requests().length, 0);
  });

  const invalid: Array<[string, () => Promise<string>, string]> = [
    ['expired token', () => h.mintToken({ exp: Math.floor(Date.now() / 1000) - 3600 }), 'invalid_token'],
    ['token of an untrusted issuer', () => h.mintToken({ iss: 'https://evil.example' }), 'invalid_token'],
    ['token signed by a key the issuer does not publish', () => h.mintToken({}, { kid: 'not-published' }), 'invalid_token'],
    ['garbage token', () => Promise.resolve('not.a.jwt'), 'invalid_token'],
  ];
  for (const [name, token, error] of invalid) {
    t.test(`${name}: 401 with error="${error}" in WWW-Authenticate; the upstream saw nothing`, async (t) => {
      const res = await get('/hello', bearer(await token()));
      t.equal(res.status, 401);
      const challenge = String(res.headers['www-authenticate']);
      t.match(challenge, new RegExp(`^Bearer realm="portcullis", error="${error}"`));
      t.equal(challenge.split('Bearer realm=').length - 1, 1, 'exactly one challenge');
      t.equal(h.upstream.requests().length, 0);
    });
  }

  t.test("require: roles [admin] → 403 with portcullis' JSON for alice, 200 for admin", async (t) => {
    const denied = await get('/admin/panel', bearer(alice));
    t.equal(denied.status, 403);
    t.equal(denied.headers['content-type'], 'application/json', "portcullis' answer, not nginx's page");
    t.match(denied.json(), { error: 'insufficient_scope' });
    t.equal(h.upstream.requests().length, 0);
    const allowed = await get('/admin/panel', bearer(admin));
    t.equal(allowed.status, 200);
    t.equal(allowed.json<Echoed>().headers['x-auth-request-preferred-username'], 'admin');
  });

  t.test("403 for a browser: portcullis' HTML page with its CSP, one request id for both decisions", async (t) => {
    const page = await get('/admin/panel?x=1', { ...bearer(alice), accept: BROWSER_ACCEPT });
    t.equal(page.status, 403);
    t.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    t.equal(page.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
    t.equal(page.headers['x-content-type-options'], 'nosniff');
    t.match(page.body, '<title>403 Forbidden</title>');
    t.match(page.body, '<code>insufficient_scope</code>');
    t.notMatch(page.body, /nginx/i, "not nginx's own page");
    const id = String(page.headers['x-request-id']);
    t.match(page.body, `<code>${id}</code>`, 'the page shows the request id');
    const lines = await h.sidecar.waitForAudit((l) => l.request_id === id, 2);
    t.equal(lines.length, 2, 'the decision and the second ask that renders the page');
    t.ok(lines.every((l) => l.status === 403 && l.reason === 'insufficient_scope' && l.path === '/admin/panel'), 'both audited as the 403 they are');
    t.equal(h.upstream.requests().length, 0);
  });

  t.test('a refused POST is shown as judged: the second ask keeps the method; the application sees nothing', async (t) => {
    const res = await http(`${nginx.url}/reports/q3`, {
      method: 'POST',
      headers: { ...bearer(alice), accept: BROWSER_ACCEPT, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'title=secret',
    });
    t.equal(res.status, 403);
    t.match(res.body, '<code>insufficient_scope</code>', 'judged as a POST again (a GET would be allowed)');
    const read = await get('/reports/q3', bearer(alice));
    t.equal(read.status, 200, 'the GET is allowed');
    t.same(h.upstream.requests().map((r) => r.method), ['GET'], 'the application saw only the GET');
  });

  t.test('a client cannot describe the request for portcullis with the other header family', async (t) => {
    for (const headers of <Array<Record<string, string>>>[
      { 'x-forwarded-uri': '/public/' },
      { 'x-forwarded-uri': '/public/', 'x-forwarded-method': 'POST' },
      { 'x-original-url': 'http://x/public/' },
    ]) {
      const res = await get('/admin/secret', { ...bearer(alice), ...headers });
      t.equal(res.status, 403, `${JSON.stringify(headers)}: judged as /admin`);
      const anon = await get('/admin/secret', headers);
      t.equal(anon.status, 401, `${JSON.stringify(headers)}: no token, no entry`);
    }
    t.equal(h.upstream.requests().length, 0);
  });

  const paths: Array<[string, string, number, string | undefined]> = [
    ['dot segments out of a public prefix are judged as /admin', '/public/../admin', 403, undefined],
    ['dot segments into a public prefix are judged as /public', '/admin/../public/x', 200, '/public/x'],
    ['an encoded dot segment is judged as /admin', '/public/%2e%2e/admin', 403, undefined],
    ['collapsed slashes are judged as /admin', '//admin', 403, undefined],
  ];
  for (const [name, raw, status, judged] of paths) {
    t.test(`path ${raw}: ${name} (alice → ${status})`, async (t) => {
      const res = await get(raw, bearer(alice));
      t.equal(res.status, status);
      if (judged === undefined) {
        t.equal(h.upstream.requests().length, 0);
        return;
      }
      const seen = res.json<Echoed>();
      t.equal(new URL(seen.url, 'http://upstream.invalid').pathname, judged, 'the upstream resolves the path portcullis judged');
    });
  }

  t.test('a path portcullis refuses (encoded slash) never reaches the upstream', async (t) => {
    const res = await get('/public%2F..%2Fadmin', bearer(alice));
    t.equal(res.status, 500, 'nginx turns the 400 of the decision into a 500');
    t.equal(h.upstream.requests().length, 0);
  });

  t.test('the decision endpoint is internal: a client cannot call /_auth/verify through nginx', async (t) => {
    const res = await get('/_auth/verify', { ...bearer(alice), 'x-original-uri': '/admin' });
    t.equal(res.status, 404);
  });

  t.test('portcullis sees the client address nginx saw, never the one the client wrote', async (t) => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(nginx.url);
      request(
        { host: url.hostname, port: url.port, path: '/public/from-client', localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '6.6.6.6' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
        .on('error', reject)
        .end();
    });
    t.equal(status, 200);
    const [line] = await h.sidecar.waitForAudit((l) => l.path === '/public/from-client');
    t.equal(line?.client_ip, '127.0.0.2');
  });

  t.test('no token ever appears in the sidecar or nginx logs', async (t) => {
    const everything = [...h.sidecar.stderr(), ...h.sidecar.stdout(), ...nginx.stderr()].join('\n');
    for (const token of [alice, admin]) t.notOk(everything.includes(token.slice(-16)));
  });
}
