/**
 * Identity rules with the real CLI: no request passes without the configured user claim; an
 * email the token calls unverified is never handed on; `require.email_verified`; `strip_headers`
 * adds to the built-in list; the query token and every portcullis cookie stay away from the
 * upstream.
 */
import t from 'tap';
import type { JWTPayload } from 'jose';
import { startEchoUpstream } from '../../src/dev/echo-upstream.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';
import { startJwksServer } from '../support/jwks-server.js';
import { rsaKey } from '../support/keys.js';
import { startSidecarProcess } from '../support/sidecar.js';
import { mint } from '../support/tokens.js';

const key = rsaKey();
const [jwks, upstream] = await Promise.all([startJwksServer([key.jwk]), startEchoUpstream()]);
const sidecar = await startSidecarProcess(`listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
issuers:
  - name: corp
    issuer: ${jwks.url}
    audiences: [api]
    claims: { user: oid }
tokens:
  cookie: session
  query: true
strip_headers: [X-WebAuth-User]
routes:
  - name: verified
    match: { path: /verified }
    upstream: ${upstream.url}
    require: { email_verified: true }
  - name: with-token
    match: { path: /with-token }
    upstream: ${upstream.url}
    forward_token: true
  - name: app
    match: { path: / }
    upstream: ${upstream.url}
`);
t.teardown(async () => {
  await sidecar.stop();
  await Promise.all([jwks.close(), upstream.close()]);
});

function token(claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return mint(key, { iss: jwks.url, sub: 's-1', oid: 'user-oid', aud: 'api', exp: now + 300, iat: now - 5, email: 'ada@example.com', ...claims });
}

async function call(path: string, headers: Record<string, string>) {
  return http(`${sidecar.url}${path}`, { headers });
}

t.test('a token without a usable user claim is refused: missing_claim', async (t) => {
  for (const oid of [undefined, '', 42, ['x']]) {
    const res = await call('/x', { authorization: `Bearer ${await token({ oid })}` });
    t.equal(res.status, 401, `oid ${JSON.stringify(oid)}`);
    t.equal(res.json().error, 'invalid_token');
  }
  const lines = await sidecar.waitForAudit((l) => l.reason === 'missing_claim', 4);
  t.equal(lines.length, 4, 'audited as missing_claim');
  const ok = await call('/x', { authorization: `Bearer ${await token()}` });
  t.equal(ok.status, 200);
  t.equal(ok.json<Echoed>().headers['x-auth-request-user'], 'user-oid', 'the configured claim is the user');
});

t.test('email_verified: false leaves the email out; require.email_verified refuses it', async (t) => {
  const unverified = await token({ email_verified: false });
  const proxied = await call('/x', { authorization: `Bearer ${unverified}` });
  t.equal(proxied.status, 200);
  t.notOk('x-auth-request-email' in proxied.json<Echoed>().headers, 'no email header upstream');
  const verified = await call('/x', { authorization: `Bearer ${await token({ email_verified: true })}` });
  t.equal(verified.json<Echoed>().headers['x-auth-request-email'], 'ada@example.com');

  const fa = await http(`${sidecar.url}/_auth/verify`, {
    headers: { authorization: `Bearer ${unverified}`, 'x-forwarded-uri': '/x', 'x-forwarded-method': 'GET', 'x-forwarded-host': 'app' },
  });
  t.equal(fa.status, 200);
  t.notOk('x-auth-request-email' in fa.headers, 'no email in the forward-auth answer');
  const info = await call('/_auth/userinfo', { authorization: `Bearer ${unverified}` });
  t.equal(info.json().email, null, 'userinfo says null');

  const refused = await call('/verified', { authorization: `Bearer ${unverified}` });
  t.equal(refused.status, 403);
  t.equal(refused.json().error, 'insufficient_scope');
  t.equal((await call('/verified', { authorization: `Bearer ${await token()}` })).status, 403, 'no claim at all is not verified');
  t.equal((await call('/verified', { authorization: `Bearer ${await token({ email_verified: true })}` })).status, 200);
});

t.test('strip_headers adds to the built-in list', async (t) => {
  const res = await call('/x', {
    authorization: `Bearer ${await token()}`,
    'x-webauth-user': 'mallory',
    'remote-user': 'mallory',
    'x-forwarded-user': 'mallory',
    'x-auth-request-user': 'mallory',
  });
  const headers = res.json<Echoed>().headers;
  for (const name of ['x-webauth-user', 'remote-user', 'x-forwarded-user']) t.notOk(name in headers, name);
  t.equal(headers['x-auth-request-user'], 'user-oid');
});

t.test('tokens.query: the access_token parameter never reaches the upstream', async (t) => {
  const tok = await token();
  const res = await call(`/search?q=1&access_token=${tok}&page=2`, {});
  t.equal(res.status, 200);
  t.equal(res.json<Echoed>().url, '/search?q=1&page=2');
  const encoded = await call(`/search?access%5Ftoken=${tok}`, {});
  t.equal(encoded.json<Echoed>().url, '/search', 'an encoded name too');
});

t.test('every portcullis cookie is removed upstream, on every route', async (t) => {
  const tok = await token();
  const cookie = `theme=dark; session=${tok}; session_refresh=sealed; portcullis_flow_abcd1234=flow; lang=en`;
  const plain = await call('/x', { cookie });
  t.equal(plain.status, 200, 'the cookie authenticated');
  t.equal(plain.json<Echoed>().headers.cookie, 'theme=dark; lang=en');
  const forwarded = await call('/with-token', { cookie });
  const headers = forwarded.json<Echoed>().headers;
  t.equal(headers.cookie, 'theme=dark; lang=en', 'forward_token forwards no cookie');
  t.equal(headers.authorization, `Bearer ${tok}`, 'only the verified token, as a bearer');
});
