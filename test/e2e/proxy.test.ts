/**
 * The reverse proxy end to end: the built CLI as a process, a real oidc-provider, a real echo
 * upstream. Each test asserts the answer and what the upstream saw (or that it saw nothing).
 */
import t from 'tap';
import WebSocket from 'ws';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';

const ROUTES = `
  - name: public
    match: { path: /public }
    upstream: {{UPSTREAM}}
    auth: public
  - name: admin
    match: { path: /admin }
    upstream: {{UPSTREAM}}
    require: { roles: [admin] }
  - name: maybe
    match: { path: /maybe }
    upstream: {{UPSTREAM}}
    auth: optional
  - name: fwd
    match: { path: /fwd }
    upstream: {{UPSTREAM}}
    forward_token: true
  - name: strip
    match: { path: /strip }
    upstream: {{UPSTREAM}}
    strip_prefix: true
  - name: slow
    match: { path: /slow }
    upstream: {{UPSTREAM}}
    timeout: 300ms
  - name: dead
    match: { path: /dead }
    upstream: http://127.0.0.1:1
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`;

const h = await harness(t, { routes: ROUTES });
const alice = await h.login('alice');
const admin = await h.login('admin');
const base = h.sidecar.url;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

t.beforeEach(() => h.upstream.reset());

t.test('no token on a required route: 401 unauthorized with a bare challenge, upstream untouched', async (t) => {
  const res = await http(`${base}/hello`);
  t.equal(res.status, 401);
  t.equal(res.headers['content-type'], 'application/json');
  t.equal(res.headers['www-authenticate'], 'Bearer realm="portcullis"');
  const body = res.json();
  t.equal(body.error, 'unauthorized');
  t.type(body.error_description, 'string');
  t.equal(body.request_id, res.headers['x-request-id']);
  t.equal(h.upstream.requests().length, 0);
});

t.test('a real IdP token passes with identity headers; credentials are not forwarded', async (t) => {
  const res = await http(`${base}/hello?x=1`, {
    headers: { ...bearer(alice), cookie: 'theme=dark; access_token=abc', 'x-request-id': 'req-123' },
  });
  t.equal(res.status, 200);
  t.equal(res.headers['x-request-id'], 'req-123');
  const seen = res.json<Echoed>();
  t.equal(seen.url, '/hello?x=1');
  const user = h.idp.users.find((u) => u.username === 'alice')!;
  t.equal(seen.headers['x-auth-request-user'], user.id);
  t.equal(seen.headers['x-auth-request-email'], user.email);
  t.equal(seen.headers['x-auth-request-preferred-username'], 'alice');
  t.equal(seen.headers['x-auth-request-groups'], user.groups.join(','));
  t.match(String(seen.headers['x-auth-request-roles']), /analyst/);
  t.equal(seen.headers.authorization, undefined, 'no Authorization upstream');
  t.equal(seen.headers.cookie, 'theme=dark', 'auth cookie removed, others kept');
  t.equal(seen.headers['x-request-id'], 'req-123');
  t.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
});

t.test('client identity headers are stripped in every spelling', async (t) => {
  const res = await http(`${base}/hello`, {
    headers: {
      ...bearer(alice),
      'X-Auth-Request-User': 'mallory',
      X_Auth_Request_Email: 'mallory@evil',
      'x-auth-request-roles': 'admin',
      'Remote-User': 'mallory',
      'X-Forwarded-User': 'mallory',
      'X-Forwarded-For': '6.6.6.6',
    },
  });
  t.equal(res.status, 200);
  const seen = res.json<Echoed>();
  t.not(seen.headers['x-auth-request-user'], 'mallory');
  t.notOk(Object.keys(seen.headers).some((k) => k.replaceAll('_', '-').toLowerCase() === 'x-auth-request-email' && seen.headers[k] === 'mallory@evil'));
  t.notMatch(String(seen.headers['x-auth-request-roles']), /admin/);
  t.equal(seen.headers['remote-user'], undefined);
  t.equal(seen.headers['x-forwarded-user'], undefined);
  t.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'set, not appended');
});

t.test('spoofed identity headers without a token do not pass', async (t) => {
  const res = await http(`${base}/hello`, { headers: { 'X-Auth-Request-User': 'admin', 'Remote-User': 'admin' } });
  t.equal(res.status, 401);
  t.equal(h.upstream.requests().length, 0);
});

const denials: Array<[string, () => Promise<Record<string, string>>, number, string, string]> = [
  ['expired token', async () => bearer(await h.mintToken({ exp: Math.floor(Date.now() / 1000) - 3600 })), 401, 'invalid_token', 'expired'],
  ['wrong audience', async () => bearer(await h.mintToken({ aud: 'account' })), 401, 'invalid_token', 'bad_audience'],
  ['unknown issuer', async () => bearer(await h.mintToken({ iss: 'https://evil.example' })), 401, 'invalid_token', 'untrusted_issuer'],
  ['garbage token', async () => bearer('not.a.jwt'), 401, 'invalid_token', 'malformed'],
  ['Basic scheme', async () => ({ authorization: 'Basic YWxpY2U6cHc=' }), 401, 'invalid_request', 'bad_scheme'],
  ['Bearer without token', async () => ({ authorization: 'Bearer' }), 401, 'invalid_request', 'bad_scheme'],
  ['token in auth cookie, expired', async () => ({ cookie: `access_token=${await h.mintToken({ exp: 1 })}` }), 401, 'invalid_token', 'expired'],
];
for (const [name, headers, status, error] of denials) {
  t.test(`denied: ${name} → ${status} ${error}`, async (t) => {
    const res = await http(`${base}/hello`, { headers: await headers() });
    t.equal(res.status, status);
    t.equal(res.json().error, error);
    t.match(String(res.headers['www-authenticate']), new RegExp(`^Bearer realm="portcullis", error="${error}", error_description="`));
    t.equal(h.upstream.requests().length, 0);
  });
}

t.test('mixed-case bearer scheme and the auth cookie are accepted', async (t) => {
  t.equal((await http(`${base}/hello`, { headers: { authorization: `bEaReR ${alice}` } })).status, 200);
  t.equal((await http(`${base}/hello`, { headers: { cookie: `access_token=${alice}` } })).status, 200);
});

t.test('require: roles → 403 insufficient_scope for alice, 200 for admin', async (t) => {
  const denied = await http(`${base}/admin/panel`, { headers: bearer(alice) });
  t.equal(denied.status, 403);
  t.equal(denied.json().error, 'insufficient_scope');
  t.equal(h.upstream.requests().length, 0);
  const allowed = await http(`${base}/admin/panel`, { headers: bearer(admin) });
  t.equal(allowed.status, 200);
});

t.test('public route: no token needed, credentials still not forwarded', async (t) => {
  const res = await http(`${base}/public/x`, { headers: bearer(alice) });
  t.equal(res.status, 200);
  const seen = res.json<Echoed>();
  t.equal(seen.headers.authorization, undefined);
  t.equal(seen.headers['x-auth-request-user'], undefined);
  t.equal((await http(`${base}/publicity`)).status, 401, 'prefix matches on segment boundaries only');
});

t.test('optional route: anonymous without a token, 401 with a bad one', async (t) => {
  const anon = await http(`${base}/maybe`);
  t.equal(anon.status, 200);
  t.equal(anon.json<Echoed>().headers['x-auth-request-user'], undefined);
  const bad = await http(`${base}/maybe`, { headers: bearer(await h.mintToken({ iss: 'https://evil.example' })) });
  t.equal(bad.status, 401);
  const good = await http(`${base}/maybe`, { headers: bearer(alice) });
  t.equal(good.status, 200);
  t.type(good.json<Echoed>().headers['x-auth-request-user'], 'string');
});

t.test('forward_token: the upstream gets the bearer token', async (t) => {
  const res = await http(`${base}/fwd`, { headers: { cookie: `access_token=${alice}` } });
  t.equal(res.status, 200);
  t.equal(res.json<Echoed>().headers.authorization, `Bearer ${alice}`);
});

t.test('strip_prefix removes the route prefix upstream', async (t) => {
  const res = await http(`${base}/strip/inner/path?q=1`, { headers: bearer(alice) });
  t.equal(res.json<Echoed>().url, '/inner/path?q=1');
});

const paths: Array<[string, number, string | undefined]> = [
  ['/a/../public/x', 200, '/public/x'],
  ['/%70ublic/x', 200, '/public/x'],
  ['/public//x', 200, '/public/x'],
  ['/public/./x', 200, '/public/x'],
  ['/public/../admin', 401, undefined],
  ['/../public', 400, undefined],
  ['/public%2F..%2Fadmin', 400, undefined],
  ['/public\\..\\admin', 400, undefined],
  ['/public/%00', 400, undefined],
  ['/public/..;/admin', 400, undefined],
  ['/public?x=/../admin', 200, '/public?x=/../admin'],
];
for (const [raw, status, upstreamUrl] of paths) {
  t.test(`path ${raw} → ${status}`, async (t) => {
    const res = await http(`${base}/`, { rawPath: raw });
    t.equal(res.status, status);
    if (status === 400) t.equal(res.json().error, 'invalid_request');
    if (upstreamUrl) t.equal(res.json<Echoed>().url, upstreamUrl, 'the upstream receives the judged path');
    else t.equal(h.upstream.requests().length, 0);
  });
}

t.test('X-Original-URI and X-Forwarded-Uri never steer a decision on the proxy port', async (t) => {
  const res = await http(`${base}/admin`, {
    headers: { ...bearer(alice), 'x-original-uri': '/public', 'x-forwarded-uri': '/public', 'x-forwarded-prefix': '/public' },
  });
  t.equal(res.status, 403);
});

t.test('Expect: 100-continue with a body is authenticated and forwarded without Expect', async (t) => {
  const res = await http(`${base}/hello`, {
    method: 'POST',
    headers: { ...bearer(alice), expect: '100-continue', 'content-type': 'text/plain', 'x-auth-request-user': 'mallory' },
    body: 'payload',
  });
  t.equal(res.status, 200);
  const seen = res.json<Echoed>();
  t.equal(seen.body, 'payload');
  t.equal(seen.headers.expect, undefined);
  t.not(seen.headers['x-auth-request-user'], 'mallory');
  const denied = await http(`${base}/hello`, { method: 'POST', headers: { expect: '100-continue', 'x-auth-request-user': 'admin' }, body: 'x' });
  t.equal(denied.status, 401);
});

t.test('a client Trailer header and hop-by-hop headers do not reach the upstream or crash', async (t) => {
  const res = await http(`${base}/hello`, {
    method: 'POST',
    headers: { ...bearer(alice), trailer: 'x-evil', connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'transfer-encoding': 'chunked' },
    body: 'chunked body',
  });
  t.equal(res.status, 200);
  const seen = res.json<Echoed>();
  t.equal(seen.headers.trailer, undefined);
  t.equal(seen.headers['x-drop-me'], undefined);
  t.equal(seen.body, 'chunked body');
});

t.test('upstream too slow → 504 upstream_timeout; refused → 502 upstream_unavailable; still up', async (t) => {
  const slow = await http(`${base}/slow?ms=3000`, { headers: bearer(alice) });
  t.equal(slow.status, 504);
  t.equal(slow.json().error, 'upstream_timeout');
  const dead = await http(`${base}/dead`, { headers: bearer(alice) });
  t.equal(dead.status, 502);
  t.equal(dead.json().error, 'upstream_unavailable');
  t.equal((await http(`${h.sidecar.adminUrl}/healthz`)).status, 200);
});

t.test('upstream status codes pass through', async (t) => {
  const res = await http(`${base}/status/503`, { headers: bearer(alice) });
  t.equal(res.status, 503);
});

function openWs(path: string, headers: Record<string, string>): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      res.resume();
    });
    ws.once('error', () => resolve({}));
  });
}

t.test('WebSocket: refused without a token (nothing reaches the upstream), echoed with one', async (t) => {
  const refused = await openWs('/ws', {});
  t.equal(refused.status, 401);
  t.equal(h.upstream.requests().length, 0);

  const { ws } = await openWs('/ws', bearer(alice));
  t.ok(ws, 'upgrade accepted');
  const echoed = new Promise<string>((resolve) => ws!.once('message', (data: Buffer) => resolve(data.toString())));
  ws!.send('hello over ws');
  t.equal(await echoed, 'hello over ws');
  ws!.close();
  const seen = h.upstream.requests().at(-1)!;
  t.type(seen.headers['x-auth-request-user'], 'string');
  t.equal(seen.headers.authorization, undefined);
});

t.test('WebSocket with the auth cookie from a foreign Origin is refused', async (t) => {
  const res = await openWs('/ws', { cookie: `access_token=${alice}`, origin: 'https://evil.example' });
  t.equal(res.status, 403);
  t.equal(h.upstream.requests().length, 0);
});

t.test('an upgrade with another method than GET is refused before any decision', async (t) => {
  const res = await http(`${base}/public/ws`, {
    method: 'POST',
    headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
  });
  t.equal(res.status, 400);
  t.equal(h.upstream.requests().length, 0);
});

t.test('h2c upgrade is refused', async (t) => {
  const res = await http(`${base}/hello`, { headers: { ...bearer(alice), connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAAP__' } });
  t.equal(res.status, 400);
  t.equal(h.upstream.requests().length, 0);
});

t.test('no token, invalid or not, ever appears in an error body or a log line', async (t) => {
  const forged = await h.mintToken({ aud: 'nope' });
  await http(`${base}/hello`, { headers: bearer(forged) });
  const everything = [...h.sidecar.stderr(), ...h.sidecar.stdout()].join('\n');
  for (const token of [alice, admin, forged]) {
    t.notOk(everything.includes(token.slice(-16)), 'no 16-character piece of a token in the logs');
  }
});

t.test('/_auth/userinfo answers the caller identity, 401 without one, and both are audited', async (t) => {
  const me = await http(`${base}/_auth/userinfo`, { headers: bearer(alice) });
  t.equal(me.status, 200);
  const user = h.idp.users.find((u) => u.username === 'alice')!;
  t.match(me.json(), { user: user.id, email: user.email, username: 'alice', groups: user.groups, issuer: h.idp.issuer });
  t.type(me.json().exp, 'number');
  const anon = await http(`${base}/_auth/userinfo`);
  t.equal(anon.status, 401);
  t.equal(anon.json().error, 'unauthorized');
  const lines = await h.sidecar.waitForAudit((a) => a.route === 'userinfo', 2);
  t.same(lines.map((l) => l.status).sort(), [200, 401]);
  t.equal(h.upstream.requests().length, 0);
});
