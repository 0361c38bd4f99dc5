/**
 * A real Traefik v3 (built by scripts/install-traefik.sh) runs the shipped examples/traefik
 * configuration (traefik.yml + dynamic.yml, addresses rewritten) in front of the built
 * portcullis (forward-auth only) and the echo upstream. Each test asserts Traefik's answer and
 * what the upstream saw, or that it saw nothing. Without Traefik this file fails: the example
 * must be proven, not skipped.
 */
import t from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';
import { APP_HOST, startTraefik, traefikVersion } from '../support/traefik.js';
import { findTool, missingTool } from '../support/tools.js';

const CLIENT_SECRET = 'traefik-interop-client-secret-0123456789';
const COOKIE_SECRET = 'traefik-interop-cookie-secret-0123456789abcdef';
const PUBLIC_URL = `http://${APP_HOST}`;

const ROUTES = `
  - name: public
    match: { host: ${APP_HOST}, path: /public }
    auth: public
  - name: admin
    match: { host: ${APP_HOST}, path: /admin }
    require: { roles: [admin] }
  - name: api
    match: { host: ${APP_HOST}, path: /api }
    forward_token: true
  - name: app
    match: { host: ${APP_HOST}, path: / }
`;

// Traefik connects to portcullis from 127.0.0.1; clients connect to Traefik from 127.0.0.2.
const EXTRA = `mode: forward_auth
public_url: ${PUBLIC_URL}
trusted_proxies: [127.0.0.1/32]
login:
  client_id: portcullis
  client_secret: ${CLIENT_SECRET}
  browser: {}
  cookie:
    secure: false
  cookie_secret: ${COOKIE_SECRET}
`;
const CLIENT_ADDRESS = '127.0.0.2';

const binary = findTool('traefik');
if (binary === undefined) {
  t.fail(missingTool('traefik', 'install-traefik.sh'));
} else {
  await suite(binary);
}

async function suite(binary: string): Promise<void> {
  // Traefik, portcullis and the IdP start on a busy 2-core machine.
  t.setTimeout(600_000);
  t.comment(`Traefik ${traefikVersion(binary)} (${binary})`);
  const h = await harness(t, {
    routes: ROUTES,
    extra: EXTRA,
    idp: { clientSecret: CLIENT_SECRET, redirectUris: [`${PUBLIC_URL}/_auth/callback`] },
  });
  const traefik = await startTraefik(binary, { portcullis: h.sidecar.url, app: h.upstream.url }, '/public/');
  t.teardown(() => traefik.close());
  const alice = await h.login('alice');
  const admin = await h.login('admin');
  const aliceUser = h.idp.users.find((u) => u.username === 'alice')!;
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const get = (path: string, headers: Record<string, string> = {}): ReturnType<typeof http> =>
    http(`${traefik.url}/`, { rawPath: path, headers: { host: APP_HOST, accept: 'application/json', ...headers }, localAddress: CLIENT_ADDRESS });

  t.beforeEach(() => h.upstream.reset());

  t.test('no token: 401 from portcullis through Traefik, the upstream sees nothing', async (t) => {
    const res = await get('/hello');
    t.equal(res.status, 401);
    t.equal(res.json().error, 'unauthorized');
    t.match(String(res.headers['www-authenticate']), /^Bearer realm="portcullis"/);
    t.equal(h.upstream.requests().length, 0);
  });

  t.test('public route: no token needed', async (t) => {
    const res = await get('/public/page');
    t.equal(res.status, 200);
    t.equal(res.json<Echoed>().url, '/public/page');
  });

  t.test('a real IdP token: 200 with the identity headers from the decision, spoofed copies gone', async (t) => {
    const res = await get('/hello?x=1', {
      ...bearer(alice),
      'x-auth-request-user': 'mallory',
      'x-auth-request-roles': 'admin',
      'x-auth-request-admin': 'true',
      'x_auth_request_user': 'mallory',
      'remote-user': 'mallory',
      'x-forwarded-user': 'mallory',
    });
    t.equal(res.status, 200);
    const seen = res.json<Echoed>();
    t.equal(seen.url, '/hello?x=1');
    t.equal(seen.headers['x-auth-request-user'], aliceUser.id, 'the client copy is replaced');
    t.equal(seen.headers['x-auth-request-email'], aliceUser.email);
    t.equal(seen.headers['x-auth-request-preferred-username'], 'alice');
    t.equal(seen.headers['x-auth-request-groups'], aliceUser.groups.join(','));
    t.notMatch(String(seen.headers['x-auth-request-roles']), /admin/, 'the client roles are replaced');
    for (const name of ['x-auth-request-admin', 'x_auth_request_user', 'remote-user', 'x-forwarded-user']) {
      t.equal(seen.headers[name], undefined, `${name} from the client never reaches the upstream`);
    }
    t.notOk(JSON.stringify(seen.headers).includes('mallory'), 'no spoofed value anywhere');
    t.equal(h.upstream.requests().length, 1);
  });

  t.test('a role route: 403 without the role, 200 with it', async (t) => {
    const denied = await get('/admin/users', bearer(alice));
    t.equal(denied.status, 403);
    t.equal(denied.json().error, 'insufficient_scope');
    t.equal(h.upstream.requests().length, 0);
    const allowed = await get('/admin/users', bearer(admin));
    t.equal(allowed.status, 200);
    t.equal(allowed.json<Echoed>().headers['x-auth-request-preferred-username'], 'admin');
  });

  t.test('the bearer token and the portcullis cookies never reach the application', async (t) => {
    const withBearer = await get('/hello', bearer(alice));
    t.equal(withBearer.status, 200);
    const seenBearer = withBearer.json<Echoed>();
    t.equal(seenBearer.headers.authorization, undefined, 'no Authorization header');
    t.equal(seenBearer.headers['x-auth-request-access-token'], undefined, 'no token header on a route without forward_token');

    const cookie = `app_session=keep-me; access_token=${alice}; access_token_refresh=sealed-refresh; portcullis_flow_abcdefgh=flow; theme=dark`;
    const withCookie = await get('/hello', { cookie });
    t.equal(withCookie.status, 200, 'the auth cookie authenticates');
    const seenCookie = withCookie.json<Echoed>();
    t.equal(seenCookie.headers['x-auth-request-user'], aliceUser.id);
    t.equal(seenCookie.headers.cookie, 'app_session=keep-me; theme=dark', "the application's own cookies only");
    t.notOk(JSON.stringify(seenCookie.headers).includes(alice), 'the token is nowhere in what the upstream saw');
  });

  t.test('a route with forward_token: the token as X-Auth-Request-Access-Token, never as Authorization', async (t) => {
    const res = await get('/api/items', bearer(alice));
    t.equal(res.status, 200);
    const seen = res.json<Echoed>();
    t.equal(seen.headers['x-auth-request-access-token'], alice);
    t.equal(seen.headers.authorization, undefined);
  });

  t.test('the real client address reaches portcullis through trusted_proxies, a forged one does not', async (t) => {
    const res = await get('/hello', { ...bearer(alice), 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'traefik-client-address' });
    t.equal(res.status, 200);
    const seen = res.json<Echoed>();
    t.equal(seen.headers['x-forwarded-for'], CLIENT_ADDRESS, 'Traefik drops the client-sent X-Forwarded-For');
    const [line] = await h.sidecar.waitForAudit((l) => l.request_id === 'traefik-client-address');
    t.equal(line?.client_ip, CLIENT_ADDRESS, 'the audit names the client behind Traefik');
  });

  t.test('/_auth/* goes to portcullis itself; /_auth/verify is not exposed', async (t) => {
    const userinfo = await get('/_auth/userinfo', bearer(alice));
    t.equal(userinfo.status, 200);
    t.equal(userinfo.json().user, aliceUser.id);
    const start = await get('/_auth/start?rd=%2Fpage%3Fx%3D1', { accept: 'text/html' });
    t.equal(start.status, 302);
    t.ok(String(start.headers.location).startsWith(h.idp.issuer), 'login starts at the IdP');
    t.equal(h.upstream.requests().length, 0);
    const verify = await get('/_auth/verify', bearer(alice));
    t.equal(verify.status, 200);
    t.equal(verify.json<Echoed>().url, '/_auth/verify', 'judged as an application path, answered by the application');
  });

  t.test('a browser without a token is sent to the login start (forward_auth.browser_redirect: auto)', async (t) => {
    const res = await get('/page?x=1', { accept: 'text/html,application/xhtml+xml' });
    t.equal(res.status, 302);
    const location = new URL(String(res.headers.location ?? ''), PUBLIC_URL);
    t.equal(location.origin + location.pathname, `${PUBLIC_URL}/_auth/start`);
    t.equal(new URL(location.searchParams.get('rd') ?? '', PUBLIC_URL).href, `${PUBLIC_URL}/page?x=1`, 'back to the original URL with its query');
    t.equal(h.upstream.requests().length, 0);
  });
}
