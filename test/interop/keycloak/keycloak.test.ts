/**
 * portcullis (the built CLI) against a real Keycloak 26 started once for this file: password
 * login, Keycloak's claim shapes (audience, realm and client roles, group paths), a user in 100
 * groups, refresh after the access token expired, browser login through Keycloak's own form and
 * logout in Chromium (browser.ts), signing-key rotation through the admin REST API, and
 * Keycloak down for 30 s. The subtests run in order and share Keycloak, portcullis, the echo
 * upstream and Chromium; later ones rely on earlier ones only through Keycloak's state (the
 * rotated keys outlive the restart).
 */
import t from 'tap';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEchoUpstream } from '../../../src/dev/echo-upstream.js';
import { cookiesByName, startChromium, STEP_TIMEOUT_MS } from '../../support/chromium.js';
import { navigations } from '../../support/dev-stack.js';
import type { Echoed } from '../../support/http.js';
import { freePort } from '../../support/http.js';
import { startSidecarProcess } from '../../support/sidecar.js';
import { appInBrowser, atLoginForm, joinAccountConsole, signInAtKeycloak } from './browser.js';
import { REALM, password, startKeycloak } from './keycloak.js';

const COOKIE_SECRET = 'keycloak-interop-cookie-secret-0123456789';
const SKEW_SEC = 1;

const kc = await startKeycloak();
t.teardown(() => kc.close());
console.error(`# Keycloak ${kc.version} at ${kc.url}`);
t.comment(`Keycloak ${kc.version}`);

const upstream = await startEchoUpstream();
t.teardown(() => upstream.close());
const port = await freePort();
const publicUrl = `http://127.0.0.1:${port}`;
const route = (name: string, path: string, require: string): string => `
  - name: ${name}
    match: { path: ${path} }
    upstream: ${upstream.url}
    require: ${require}`;
const sidecar = await startSidecarProcess(`listen: 127.0.0.1:${port}
admin:
  listen: 127.0.0.1:0
public_url: ${publicUrl}
issuers:
  - name: keycloak
    issuer: ${kc.issuer}
    audiences: [${REALM.audience}]
    clock_skew: ${SKEW_SEC}s
    jwks:
      refresh_interval: 3s
      min_refresh_interval: 1s
      timeout: 10s
routes:${route('analytics', '/analytics', '{ roles: [analyst] }')}${route('reports', '/reports', "{ roles: ['reports:write'] }")}${route(
  'data',
  '/data',
  '{ groups: [/acme/data] }',
)}${route('projects', '/projects', '{ groups: [/projects/project-100] }')}
  - name: app
    match: { path: / }
    upstream: ${upstream.url}
login:
  client_id: ${REALM.client.id}
  client_secret: ${REALM.client.secret}
  password: {}
  browser: {}
  cookie_secret: ${COOKIE_SECRET}
`);
t.teardown(() => sidecar.stop());
const app = appInBrowser(kc, await startChromium(t), publicUrl, COOKIE_SECRET);

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
  readonly requestId: string;
}

async function call(path: string, init: { token?: string; cookie?: string; method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  const res = await fetch(`${publicUrl}${path}`, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: init.body }), redirect: 'manual' });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: res.status, headers: res.headers, body, requestId: res.headers.get('x-request-id') ?? '' };
}

/** Password login through portcullis; `cookie` asks for the cookies (as a same-origin page would). */
function login(username: string, opts: { cookie?: boolean; password?: string } = {}): Promise<Answer> {
  return call(`/_auth/login${opts.cookie === true ? '?cookie=true' : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.cookie === true ? { origin: publicUrl, 'sec-fetch-site': 'same-origin' } : {}) },
    body: JSON.stringify({ username, password: opts.password ?? password(username) }),
  });
}

const accessToken = (a: Answer): string => (a.body.auth_token as { access_token: string }).access_token;
/** `name=value` of each Set-Cookie, joined as a Cookie header. */
const cookieHeader = (headers: Headers): string => headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const setCookie = (headers: Headers, name: string): string | undefined => headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
const cookieValue = (headers: Headers, name: string): string | undefined => setCookie(headers, name)?.split(';')[0]?.slice(name.length + 1);
/** The audit line of one answer (the sink batches its writes: waits for it). */
async function auditOf(answer: Answer): Promise<Record<string, unknown> | undefined> {
  return (await sidecar.waitForAudit((l) => l.request_id === answer.requestId))[0];
}

t.test('discovery: the issuer portcullis is configured with is the one Keycloak reports', async (t) => {
  const res = await fetch(`${kc.issuer}/.well-known/openid-configuration`);
  const doc = (await res.json()) as Record<string, unknown>;
  t.equal(doc.issuer, kc.issuer);
  t.ok(typeof doc.end_session_endpoint === 'string' && typeof doc.revocation_endpoint === 'string', 'end session and revocation endpoints published');
  const ready = await fetch(`${sidecar.adminUrl}/readyz`);
  t.equal(ready.status, 200, 'portcullis loaded the realm keys');
});

t.test('password login: Keycloak claim shapes become the identity', async (t) => {
  const r = await login('alice');
  t.equal(r.status, 200);
  t.equal(r.headers.get('cache-control'), 'no-store');
  t.equal(r.headers.get('set-cookie'), null, 'no cookie without ?cookie=true');
  const token = accessToken(r);
  const claims = decodeJwt(token);
  t.equal(decodeProtectedHeader(token).alg, 'RS256');
  t.same(claims.aud, [REALM.audience, 'account'], 'the audience mapper adds the API next to the default "account"');
  t.match(r.body, {
    uuid: claims.sub,
    email: 'alice@example.com',
    username: 'alice',
    groups: ['/acme/data/team'],
    auth_token: { access_token: String, token_type: 'Bearer' },
  });
  const roles = r.body.roles as string[];
  for (const role of ['user', 'analyst', 'default-roles-portcullis', 'reports:read', 'manage-account', 'view-profile']) {
    t.ok(roles.includes(role), `roles hold ${role} (realm_access and resource_access.*)`);
  }
  const expiresIn = (r.body.auth_token as { expires_in: number }).expires_in;
  t.ok(expiresIn > 0 && expiresIn <= 15, `expires_in ${expiresIn} within the realm's 15 s lifespan`);

  const proxied = await call('/api/me', { token });
  t.equal(proxied.status, 200);
  const echoed = proxied.body as unknown as Echoed;
  t.equal(echoed.headers['x-auth-request-user'], claims.sub);
  t.equal(echoed.headers['x-auth-request-groups'], '/acme/data/team');
  t.match(echoed.headers['x-auth-request-roles'], /(^|,)reports:read(,|$)/);
});

t.test('password login: wrong password is 401 invalid_grant, a refused client secret is 503', async (t) => {
  const wrong = await login('bob', { password: 'not-bobs-password' });
  t.equal(wrong.status, 401);
  t.equal(wrong.body.error, 'invalid_grant');
  const unknown = await login('nobody-here');
  t.equal(unknown.status, 401, 'unknown user: the same answer');
  t.equal(unknown.body.error, 'invalid_grant');

  // Keycloak answers a wrong client secret with 401 unauthorized_client (not invalid_client).
  const misconfigured = await startSidecarProcess(`listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
issuers:
  - name: keycloak
    issuer: ${kc.issuer}
    audiences: [${REALM.audience}]
    jwks: { timeout: 10s }
login:
  client_id: ${REALM.client.id}
  client_secret: not-the-client-secret
  password: {}
`);
  t.teardown(() => misconfigured.stop());
  const res = await fetch(`${misconfigured.url}/_auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bob', password: password('bob') }),
  });
  t.equal(res.status, 503);
  t.equal(((await res.json()) as Record<string, unknown>).error, 'auth_unavailable');
  t.match(await misconfigured.waitForLog('idp_unauthorized_client'), /"code":"idp_unauthorized_client"/, 'the operator is told why');
});

t.test('password login with ?cookie=true: the auth and refresh cookies, and the cookie opens a route', async (t) => {
  const r = await login('bob', { cookie: true });
  t.equal(r.status, 200);
  const token = accessToken(r);
  const expiresIn = (r.body.auth_token as { expires_in: number }).expires_in;
  t.equal(setCookie(r.headers, 'access_token'), `access_token=${token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=${expiresIn}`);
  t.match(setCookie(r.headers, 'access_token_refresh'), /^access_token_refresh=[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}; HttpOnly; Secure; SameSite=Strict; Path=\/; Max-Age=86400$/);
  const proxied = await call('/api', { cookie: cookieHeader(r.headers) });
  t.equal(proxied.status, 200);
  const echoed = proxied.body as unknown as Echoed;
  t.notMatch(String(echoed.headers.cookie ?? ''), /(^|; )access_token=/, 'the auth cookie is not sent upstream');
});

t.test("audience: Keycloak's default aud is 'account', plus clients whose roles the user holds", async (t) => {
  // Without the audience mapper a token names only the clients whose roles the user holds.
  const bob = await kc.passwordGrant(REALM.noAudienceClient, 'bob');
  t.equal(decodeJwt(bob.access_token).aud, 'account', "bob holds no API role: aud is just 'account'");
  const refused = await call('/api', { token: bob.access_token });
  t.equal(refused.status, 401);
  t.equal(refused.body.error, 'invalid_token');
  t.equal((await auditOf(refused))?.reason, 'bad_audience');
  const alice = await kc.passwordGrant(REALM.noAudienceClient, 'alice');
  t.same(decodeJwt(alice.access_token).aud, [REALM.audience, 'account'], 'alice holds reports:read: Keycloak adds the API by itself');
  t.equal((await call('/api', { token: alice.access_token })).status, 200);
});

t.test('authorization: realm roles, client roles and group paths, allowed and 403', async (t) => {
  const tokens = new Map<string, string>();
  for (const user of ['alice', 'bob', 'carol']) tokens.set(user, (await kc.passwordGrant(REALM.cliClient, user)).access_token);
  const cases: Array<[string, string, number]> = [
    ['/analytics', 'alice', 200], // realm role analyst
    ['/analytics', 'bob', 403],
    ['/reports', 'carol', 200], // client role portcullis-api reports:write
    ['/reports', 'alice', 403], // holds reports:read only
    ['/data', 'alice', 200], // member of /acme/data/team, a sub-group of /acme/data
    ['/data', 'carol', 403], // member of /acme, the parent: not enough
    ['/data', 'bob', 403],
  ];
  for (const [path, user, status] of cases) {
    const r = await call(path, { token: tokens.get(user) ?? '' });
    t.equal(r.status, status, `${user} on ${path}`);
    if (status === 403) t.equal(r.body.error, 'insufficient_scope');
  }
});

t.test('a user in 100 groups: the token, the identity and the cookie', async (t) => {
  const r = await login('many', { cookie: true });
  t.equal(r.status, 200);
  const token = accessToken(r);
  const groups = r.body.groups as string[];
  t.equal(groups.length, 100, 'all 100 group paths in the identity');
  t.comment(`access token of the 100-group user: ${token.length} bytes; Set-Cookie values: ${r.headers.getSetCookie().map((c) => c.length).join(', ')} bytes`);
  t.ok(token.length > 4096, 'larger than the 4096 bytes a browser keeps per cookie');

  const bearer = await call('/projects/x', { token });
  t.equal(bearer.status, 200, 'the group requirement holds (bearer)');
  const echoed = bearer.body as unknown as Echoed;
  t.equal(String(echoed.headers['x-auth-request-groups']).split(',').length, 100, 'all 100 groups upstream');
  const byCookie = await call('/projects/x', { cookie: cookieHeader(r.headers) });
  t.equal(byCookie.status, 200, 'the cookies portcullis set, sent back, open the route');
  const userinfo = await call('/_auth/userinfo', { token });
  t.equal((userinfo.body.groups as string[]).length, 100);
  t.equal((await call('/projects/x', { token: (await kc.passwordGrant(REALM.cliClient, 'alice')).access_token })).status, 403, 'alice is in none of them');
});

t.test('refresh: after the access token expired, the refresh cookie gets a new one from Keycloak', async (t) => {
  const r = await login('alice', { cookie: true });
  t.equal(r.status, 200);
  const first = accessToken(r);
  const refreshCookie = cookieValue(r.headers, 'access_token_refresh') ?? '';
  const exp = decodeJwt(first).exp ?? 0;
  // Past exp and the configured clock skew, on Keycloak's own clock (the same machine).
  await sleep(Math.max(0, (exp + SKEW_SEC + 1) * 1000 - Date.now()));
  const expired = await call('/api', { token: first });
  t.equal(expired.status, 401, 'the first access token has expired');
  t.equal((await auditOf(expired))?.reason, 'expired');

  const renewed = await call('/_auth/userinfo', { cookie: `access_token=${first}; access_token_refresh=${refreshCookie}` });
  t.equal(renewed.status, 200, 'userinfo with the expired cookie and the refresh cookie');
  t.equal(renewed.body.username, 'alice');
  const second = cookieValue(renewed.headers, 'access_token');
  t.ok(second !== undefined && second !== first, 'a new auth cookie');
  t.ok((decodeJwt(second ?? '').exp ?? 0) > exp, 'that expires later');
  const rotated = cookieValue(renewed.headers, 'access_token_refresh');
  t.ok(rotated !== undefined && rotated !== refreshCookie, 'Keycloak sent a new refresh token: a new refresh cookie');

  const proxied = await call('/analytics', { cookie: `access_token_refresh=${rotated ?? ''}`, headers: { accept: 'text/html' } });
  t.equal(proxied.status, 200, 'a browser request with only the refresh cookie is renewed and proxied');
  t.ok(cookieValue(proxied.headers, 'access_token') !== undefined, 'and gets an auth cookie');

  // Keycloak does not revoke a used refresh token unless the realm says so (revokeRefreshToken).
  await sleep(6_000); // past portcullis's 5 s sharing of one renewal between racing requests
  const replay = await call('/_auth/userinfo', { cookie: `access_token_refresh=${refreshCookie}` });
  t.equal(replay.status, 200, 'the first refresh cookie still works: refresh tokens do not rotate by default');
});

t.test("browser login in Chromium through Keycloak's own form: back at the original URL with its query", async (t) => {
  upstream.reset();
  const path = '/analytics/q3?tab=summary&filter=a%20b&next=%2Fx%3Fy%3D1';
  const { page, landed } = await app.login(t, path); // a signed-out browser is sent to Keycloak's form
  t.equal(landed.status(), 200, 'the original page is served (the route needs the realm role analyst)');
  t.equal(page.url(), `${publicUrl}${path}`, 'the address bar shows the original URL with its query');
  const [first] = navigations({ upstream });
  t.equal(first?.url, path, 'the first page the upstream serves is the original one');
  const headers = first?.headers ?? {};
  t.match(headers, {
    'x-auth-request-preferred-username': 'alice',
    'x-auth-request-email': 'alice@example.com',
    'x-auth-request-groups': '/acme/data/team',
  });
  const roles = String(headers['x-auth-request-roles']).split(',');
  for (const role of ['user', 'analyst', 'reports:read', 'default-roles-portcullis']) t.ok(roles.includes(role), `upstream roles hold ${role}`);
  const logins = await sidecar.waitForAudit((e) => e.event === 'login' && e.kind === 'browser');
  t.match(logins.at(-1), { decision: 'allowed', user: headers['x-auth-request-user'], path: '/_auth/callback', status: 200 });

  const jar = await cookiesByName(page, `${publicUrl}/`);
  t.match(jar.get('access_token'), { sameSite: 'Strict', httpOnly: true }, 'auth cookie');
  t.match(jar.get('access_token_refresh'), { sameSite: 'Strict', httpOnly: true }, 'refresh cookie');
  t.same([...jar.keys()].filter((name) => name.startsWith('portcullis_flow_')), [], 'the flow cookie is gone');
  t.notMatch(String(headers.cookie ?? ''), /(^|; )access_token/, 'no portcullis cookie reaches the upstream');
  const kcCookies = await cookiesByName(page, `${kc.issuer}/`);
  t.comment(`Keycloak's cookies: ${[...kcCookies.values()].map((c) => `${c.name} (${c.path})`).join(', ')}`);
  t.ok(kcCookies.has('KEYCLOAK_IDENTITY'), "Keycloak's SSO cookie is set");

  const refused = await page.goto(`${publicUrl}/reports`);
  t.equal(refused?.status(), 403, 'a route needing a client role alice lacks: 403, not another login');
  t.equal(page.url(), `${publicUrl}/reports`);
});

const introspect = async (refreshToken: string): Promise<unknown> =>
  (await kc.clientCall('token/introspect', { token: refreshToken, token_type_hint: 'refresh_token' })).body.active;

t.test('logout in Chromium: the refresh token is revoked and the Keycloak session ends (the sign-in form again)', async (t) => {
  const { page } = await app.login(t, '/');
  const { sealed, refreshToken, idToken, sid, sub } = await app.session(page);
  t.ok(idToken !== '' && refreshToken !== '', 'the sealed refresh cookie holds the refresh token and the ID token (the logout hint)');
  t.comment(`alice's ID token ${idToken.length} bytes, refresh token ${refreshToken.length}, sealed refresh cookie ${sealed.length} (one cookie: 3500)`);
  t.equal(await introspect(refreshToken), true, 'Keycloak holds the refresh token active');
  // A second client in the same Keycloak session: revoking portcullis's refresh token alone
  // would leave the session alive ('revoking the refresh token alone …' below); only the
  // end-session request ends it.
  await joinAccountConsole(kc, page);
  t.same((await kc.userSessions(sub)).get(sid)?.sort(), ['account-console', REALM.client.id], 'the Keycloak session holds portcullis and the account console');

  const navigated = await app.signOut(page);
  t.comment(`logout went through: ${navigated.map((u) => `${u.origin}${u.pathname}`).join(' -> ')}`);

  const endSession = app.endSessionOf(navigated);
  t.ok(endSession !== undefined, "the browser is sent to Keycloak's end-session endpoint");
  t.equal(endSession?.searchParams.get('id_token_hint'), idToken, 'with the ID token as id_token_hint');
  t.equal(endSession?.searchParams.get('client_id'), REALM.client.id, 'and client_id');
  t.equal(endSession?.searchParams.get('post_logout_redirect_uri'), `${publicUrl}/`, 'and the registered post_logout_redirect_uri');
  t.ok(
    navigated.some((u) => u.href === `${publicUrl}/`),
    'Keycloak sends the browser back to the post-logout URI without a confirmation page',
  );
  t.ok(await atLoginForm(kc, page), 'where the protected page leads to the sign-in form: no silent login');
  const left = [...(await cookiesByName(page, `${publicUrl}/`)).keys()].filter((n) => n.startsWith('access_token'));
  t.same(left, [], 'no portcullis cookie left');
  t.notOk((await cookiesByName(page, `${kc.issuer}/`)).has('KEYCLOAK_IDENTITY'), "Keycloak's SSO cookie is gone");

  const refreshed = await kc.clientCall('token', { grant_type: 'refresh_token', refresh_token: refreshToken });
  t.equal(refreshed.status, 400, 'the old refresh token is refused by Keycloak');
  t.equal(refreshed.body.error, 'invalid_grant');
  t.equal(await introspect(refreshToken), false, 'and introspects as inactive');
  t.notOk((await kc.userSessions(sub)).has(sid), 'the Keycloak session is gone, the account console signed out with it');
  const replay = await call('/_auth/userinfo', { cookie: `access_token_refresh=${sealed}` });
  t.equal(replay.status, 401, 'the old refresh cookie, replayed at portcullis, yields no token');

  await page.goto(`${publicUrl}/analytics/again?x=1`);
  t.ok(await atLoginForm(kc, page), 'opening a protected URL again shows the sign-in form');
  const again = await signInAtKeycloak(page, 'alice', `${publicUrl}/analytics/again?x=1`);
  t.equal(again.status(), 200, 'and signing in again works');
});

t.test('logout without the hint (100-group user) while another client shares the session: Keycloak asks to confirm', async (t) => {
  const { page, landed } = await app.login(t, '/', 'many');
  t.equal(landed.status(), 200, 'the 100-group user signs in (chunked auth cookie)');
  const { refreshToken, idToken } = await app.session(page);
  t.ok(refreshToken !== '' && idToken === '', 'the sealed cookie keeps the refresh token but not the 4 KB ID token');
  // Another client in the session, so that portcullis's revocation leaves it alive: the
  // end-session request meets a live session without a hint. (Without another client the
  // revocation removes the session and Keycloak redirects at once.)
  await joinAccountConsole(kc, page);
  const navigated = await app.signOut(page);
  const endSession = app.endSessionOf(navigated);
  t.ok(endSession !== undefined && !endSession.searchParams.has('id_token_hint'), 'end-session without id_token_hint');
  t.equal(endSession?.searchParams.get('client_id'), REALM.client.id, 'but with client_id');
  t.ok(page.url().startsWith(`${kc.issuer}/protocol/openid-connect/logout`), "Keycloak shows its logout confirmation page instead of redirecting");
  await Promise.all([page.waitForURL((u) => u.href.startsWith(`${kc.issuer}/protocol/openid-connect/auth`), { timeout: STEP_TIMEOUT_MS }), page.locator('#kc-logout').click()]);
  t.ok(await atLoginForm(kc, page), 'once confirmed, back at the post-logout URI, which leads to the sign-in form');
  t.equal((await kc.clientCall('token', { grant_type: 'refresh_token', refresh_token: refreshToken })).status, 400, 'the refresh token is refused');
});

t.test('revoking the refresh token alone does not end a Keycloak session another client shares', async (t) => {
  const { page } = await app.login(t, '/');
  const { refreshToken, sid, sub } = await app.session(page);
  await joinAccountConsole(kc, page);
  const revoked = await kc.clientCall('revoke', { token: refreshToken, token_type_hint: 'refresh_token' });
  t.equal(revoked.status, 200, 'Keycloak revokes the refresh token (RFC 7009)');
  t.equal(await introspect(refreshToken), false, 'which is no longer active');
  t.same((await kc.userSessions(sub)).get(sid), ['account-console'], 'but the session lives on with the other client');
  upstream.reset();
  // The callback answers with a page that moves on to `rd` (the auth cookie is Strict and
  // Keycloak is another site): wait for that page.
  await page.goto(`${publicUrl}/_auth/start?rd=%2Fsilent%3Fx%3D1`);
  await page.waitForURL(`${publicUrl}/silent?x=1`, { waitUntil: 'load' });
  const [served] = navigations({ upstream });
  t.equal(served?.url, '/silent?x=1', 'a new login through portcullis needs no form: the SSO cookie still signs in');
  t.equal(served?.headers['x-auth-request-preferred-username'], 'alice');
});

interface Component {
  readonly id: string;
  readonly name: string;
  readonly providerId: string;
}

t.test('key rotation through the admin REST API: old key refused after the refresh, new accepted, never a 503', async (t) => {
  const realm = (await (await kc.admin('GET', '')).json()) as { id: string };
  const components = (await (await kc.admin('GET', '/components?type=org.keycloak.keys.KeyProvider')).json()) as Component[];
  const oldProviders = components.filter((c) => c.providerId === 'rsa-generated');
  t.equal(oldProviders.length, 1, 'the realm starts with one generated RSA signing key');
  const oldToken = (await kc.passwordGrant(REALM.cliClient, 'alice')).access_token;
  const oldKid = decodeProtectedHeader(oldToken).kid;
  t.equal((await call('/api', { token: oldToken })).status, 200);

  // A request every 100 ms with the newest good token, for the whole rotation.
  let good = oldToken;
  const statuses: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      statuses.push((await call('/api', { token: good })).status);
      await sleep(100);
    }
  })();

  await kc.admin('POST', '/components', {
    name: 'rsa-rotated',
    providerId: 'rsa-generated',
    providerType: 'org.keycloak.keys.KeyProvider',
    parentId: realm.id,
    config: { priority: ['200'], keySize: ['2048'], algorithm: ['RS256'], active: ['true'], enabled: ['true'] },
  });
  const newToken = (await kc.passwordGrant(REALM.cliClient, 'alice')).access_token;
  const newKid = decodeProtectedHeader(newToken).kid;
  t.not(newKid, oldKid, 'Keycloak signs with the new, higher-priority key');
  // An unknown kid refetches at most once per min_refresh_interval (1 s here): when the last
  // fetch (the background refresh) ran just before Keycloak published the new key, the token
  // waits for the floor. It must pass within a few floors, never by a 503.
  let first = await call('/api', { token: newToken });
  for (let i = 0; i < 5 && first.status === 401; i++) {
    await sleep(1100);
    first = await call('/api', { token: newToken });
  }
  t.equal(first.status, 200, 'a token of the new key: the unknown kid refetches the keys');
  good = newToken;
  t.equal((await call('/api', { token: oldToken })).status, 200, 'the old key is still published: its tokens still pass');

  for (const old of oldProviders) await kc.admin('DELETE', `/components/${old.id}`);
  const certs = (await (await fetch(`${kc.issuer}/protocol/openid-connect/certs`)).json()) as { keys: Array<{ kid: string }> };
  t.notOk(certs.keys.some((k) => k.kid === oldKid), 'the old key is gone from the JWKS');
  let old = await call('/api', { token: oldToken });
  for (let i = 0; i < 60 && old.status === 200; i++) {
    await sleep(500);
    old = await call('/api', { token: oldToken });
  }
  t.equal(old.status, 401, 'after the background refresh the old key signs nothing valid');
  t.equal((await auditOf(old))?.reason, 'unknown_kid');
  const fresh = (await kc.passwordGrant(REALM.cliClient, 'bob')).access_token;
  t.equal((await call('/api', { token: fresh })).status, 200, 'a token minted after the removal passes');
  polling = false;
  await poller;
  t.ok(statuses.length > 0, `${statuses.length} requests during the rotation`);
  t.same([...new Set(statuses)], [200], 'every request with a good token during the rotation: 200, never a 503');
});

t.test('Keycloak down for 30 s: cached keys keep serving, login is 503 auth_unavailable, then it recovers', async (t) => {
  const seen = (await kc.passwordGrant(REALM.cliClient, 'alice')).access_token;
  const unseen = (await kc.passwordGrant(REALM.cliClient, 'carol')).access_token;
  t.equal((await call('/api', { token: seen })).status, 200);
  await kc.stop();
  const downSince = Date.now();

  const refused = await login('bob');
  t.equal(refused.status, 503);
  t.equal(refused.body.error, 'auth_unavailable');
  t.ok(refused.headers.get('retry-after') !== null, 'with Retry-After');
  // Several failed background refreshes (every 3 s) while Keycloak is away.
  await sleep(Math.max(0, downSince + 30_000 - Date.now()));
  t.equal((await call('/api', { token: seen })).status, 200, 'a token seen before the outage');
  t.equal((await call('/reports', { token: unseen })).status, 200, 'a token never seen before, checked with the stale keys');
  t.equal((await fetch(`${sidecar.adminUrl}/readyz`)).status, 200, 'portcullis stays ready on stale keys');
  t.equal((await login('bob')).status, 503, 'login still 503 at the end of the outage');

  await kc.restart();
  const back = await login('bob');
  t.equal(back.status, 200, 'password login works again after the restart');
  if (back.status !== 200) t.comment(sidecar.stderr().filter((l) => l.includes('"code"')).join('\n'));
  t.equal((await call('/api', { token: accessToken(back) })).status, 200);
});
