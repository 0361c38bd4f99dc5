/**
 * Browser login through nginx's `auth_request` example in Chromium: examples/nginx/portcullis.conf
 * as shipped (addresses rewritten by test/support/nginx.ts) in front of the built portcullis
 * (forward-auth only, public_url = nginx's address) and the echo application. A person opens a
 * protected URL on nginx, nginx's 401 error_page sends them to portcullis' login, they sign in at
 * the development IdP's form, the callback comes back through nginx's `/_auth/` location and they
 * land on the original URL, query and all; the application sees the identity, never portcullis'
 * cookies or a bearer token. A route that needs a role shows portcullis' HTML 403 page through
 * nginx; logout through nginx ends the session.
 */
import t from 'tap';
import { cookiesByName, startChromium, STEP_TIMEOUT_MS } from '../support/chromium.js';
import { atIdp, loginAt, navigations, signIn, startDevStack } from '../support/dev-stack.js';
import type { DevConfigValues } from '../support/dev-stack.js';
import { assertNoLeak } from '../support/login-harness.js';
import { findNginx, startNginx } from '../support/nginx.js';
import type { Nginx } from '../support/nginx.js';

/** Forward-auth only: the application is reachable through nginx alone. */
const config = (v: DevConfigValues): string => `listen: 127.0.0.1:${v.port}
admin:
  listen: 127.0.0.1:0
public_url: ${v.publicUrl}
trusted_proxies: [127.0.0.1]
issuers:
  - name: dev
    issuer: ${v.issuer}
    audiences: [api]
routes:
  - name: admin
    match: { path: /admin }
    require: { roles: [admin] }
  - name: app
    match: { path: / }
login:
  client_id: portcullis
  client_secret: ${v.clientSecret}
  browser: {}
  cookie: { secure: false }
  cookie_secret: ${v.cookieSecret}
audit:
  output: stdout
`;

if (findNginx() === undefined) {
  t.fail('nginx is required for this test and was not found; install it: apt-get install -y nginx');
} else {
  await suite();
}

async function suite(): Promise<void> {
  let nginx: Nginx | undefined;
  // nginx starts first: its address is portcullis' public_url and the IdP's redirect URI.
  const stack = await startDevStack(t, { config, front: async (sidecar, app) => (nginx = await startNginx({ sidecar, app })) });
  if (nginx === undefined) throw new Error('the dev stack did not start nginx');
  const front = nginx;
  const chromium = await startChromium(t);
  const alice = stack.user('alice');
  t.beforeEach(() => stack.upstream.reset());

  t.test('sign in through nginx: back at the original URL with its query; the application sees the identity, not the credentials', async (t) => {
    const page = await chromium.page(t);
    await page.context().addCookies([{ name: 'theme', value: 'dark', url: `${front.url}/` }]);
    const path = '/reports/q3?tab=summary&filter=a%20b&next=%2Fx%3Fy%3D1';
    const visited: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) visited.push(r.url());
    });

    await page.goto(`${front.url}${path}`);
    t.equal(stack.url, front.url, "nginx's address is portcullis' public_url");
    t.ok(atIdp(stack, page), "nginx's 401 error_page sent the signed-out browser to the IdP's form");
    const start = visited.find((u) => u.startsWith(`${front.url}/_auth/start?`));
    t.ok(start, "the login starts on nginx's address");
    t.equal(new URL(start ?? front.url).searchParams.get('rd'), `${front.url}${path}`, 'rd is the original URL, query intact');
    t.ok(visited.some((u) => u.startsWith(`${stack.idp.issuer}/auth?`) && new URL(u).searchParams.get('redirect_uri') === `${front.url}/_auth/callback`), "the IdP is asked to come back to nginx's /_auth/callback");

    const landed = await signIn(stack, page, 'alice', `${front.url}${path}`);
    t.ok(visited.some((u) => u.startsWith(`${front.url}/_auth/callback?`)), 'the callback went through nginx');
    t.equal(landed.status(), 200, 'the original page is served');
    t.equal(page.url(), `${front.url}${path}`, 'the address bar shows the original URL with its query');
    const [first] = navigations(stack);
    t.equal(first?.url, path, 'the first page the application serves is the original one');
    t.equal(first?.headers['x-auth-request-user'], alice.id, 'identity from the decision');
    t.equal(first?.headers['x-auth-request-preferred-username'], 'alice');
    t.equal(first?.headers['x-auth-request-email'], alice.email);
    t.equal(first?.headers.cookie, 'theme=dark', "the application's own cookie reaches it, portcullis' cookies do not");
    t.equal(first?.headers.authorization, undefined, 'no Authorization header');
    t.equal(first?.headers['x-auth-request-access-token'], undefined, 'no token header (the route does not forward it)');

    const jar = await cookiesByName(page, `${front.url}/`);
    t.match(jar.get('access_token'), { sameSite: 'Strict', httpOnly: true }, "the auth cookie is set on nginx's origin");
    const token = jar.get('access_token')?.value ?? '';
    stack.upstream.reset();
    const status = await page.evaluate(
      async (bearer) => (await fetch('/api/items?x=1', { headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' } })).status,
      token,
    );
    t.equal(status, 200, 'a script of the page calls the API with the token as a bearer');
    const api = stack.upstream.requests().find((r) => r.url.startsWith('/api/'));
    t.equal(api?.url, '/api/items?x=1');
    t.equal(api?.headers.authorization, undefined, 'nginx clears the bearer before the application');
    t.equal(api?.headers['x-auth-request-user'], alice.id);
    t.notMatch(String(api?.headers.cookie), /access_token/, 'and the auth cookie');

    const logs = [...stack.sidecar.stderr(), ...stack.sidecar.stdout(), ...front.stderr()].join('\n');
    t.equal(assertNoLeak(logs, [...[...jar.values()].map((c) => c.value), stack.cookieSecret, stack.idp.clientSecret, alice.password]), undefined, 'no cookie or secret in a log line');
  });

  t.test("a route that needs a role: portcullis' HTML 403 page through nginx, JSON for an API client", async (t) => {
    const page = await chromium.page(t);
    await loginAt(stack, page, 'alice', '/');
    stack.upstream.reset();
    const res = await page.goto(`${front.url}/admin/panel?x=1`);
    t.equal(res?.status(), 403);
    t.equal(res?.headers()['content-type'], 'text/html; charset=utf-8');
    t.equal(res?.headers()['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'", "portcullis' page, with its CSP");
    t.equal(await page.title(), '403 Forbidden');
    const text = await page.locator('body').innerText();
    t.match(text, /insufficient_scope/, 'the page names the error code');
    t.notMatch(text, /nginx/, "not nginx's own page");
    t.match(text, res?.headers()['x-request-id'] ?? 'missing', 'the request id is shown');
    t.ok(await page.getByRole('link', { name: 'Log in again' }).isVisible());
    t.ok(await page.getByRole('link', { name: 'Log out' }).isVisible());
    t.equal(page.url(), `${front.url}/admin/panel?x=1`, 'no redirect');
    // Only the refused path counts: Chromium may still fetch /favicon.ico (allowed) on its own.
    t.same(stack.upstream.requests().filter((r) => r.url.toLowerCase().startsWith('/admin')), [], 'the application saw nothing of /admin');

    const token = (await cookiesByName(page, `${front.url}/`)).get('access_token')?.value ?? '';
    const api = await fetch(`${front.url}/admin/panel`, { headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
    t.equal(api.status, 403);
    t.equal(api.headers.get('content-type'), 'application/json', 'an API client keeps the JSON');
    t.match(await api.json(), { error: 'insufficient_scope' });
  });

  t.test('logout through nginx ends the session: cookies gone, the old refresh cookie yields nothing, the next visit asks for the password', async (t) => {
    const page = await chromium.page(t);
    await loginAt(stack, page, 'alice', '/');
    const refresh = (await cookiesByName(page, `${front.url}/`)).get('access_token_refresh')?.value ?? '';
    t.ok(refresh, 'signed in with a refresh cookie');
    stack.upstream.reset();

    await page.goto(`${front.url}/_auth/logout`);
    t.ok(page.url().startsWith(`${stack.idp.issuer}/session/end`), 'sent to the IdP to end its session');
    await Promise.all([
      page.waitForURL((u) => !u.href.startsWith(`${stack.idp.issuer}/session/end`), { timeout: STEP_TIMEOUT_MS }),
      page.getByRole('button', { name: 'Yes, sign me out' }).click(),
    ]);
    t.same([...(await cookiesByName(page, `${front.url}/`)).keys()].filter((n) => n.startsWith('access_token')), [], 'no portcullis cookie left');
    t.ok(atIdp(stack, page), "back at nginx's / after the IdP's logout, the browser is sent to sign in again");
    t.ok(await page.getByPlaceholder('password').isVisible(), 'the password is asked for: the IdP session ended too');

    const replay = await fetch(`${front.url}/_auth/userinfo`, { headers: { accept: 'application/json', cookie: `access_token_refresh=${refresh}` } });
    t.equal(replay.status, 401, 'the old refresh cookie, replayed through nginx, yields no token');
    t.same(navigations(stack), [], 'the application saw no page after the logout');
  });
}
