import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { startDevIdp } from '../../../src/dev/idp.js';
import type { DevIdp } from '../../../src/dev/idp.js';
import { Browser, parseForms } from '../../support/browser.js';

const idp = await startDevIdp();
t.teardown(() => idp.close());

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
idp.addRedirectUri(REDIRECT_URI);

interface TokenJson {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  error?: string;
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  return (await res.json()) as Record<string, unknown>;
}

async function getJwks(url: string): Promise<JSONWebKeySet> {
  const res = await fetch(url);
  return (await res.json()) as JSONWebKeySet;
}

function basicAuth(p: DevIdp): string {
  return `Basic ${Buffer.from(`${p.clientId}:${p.clientSecret}`).toString('base64')}`;
}

async function tokenRequest(p: DevIdp, params: Record<string, string>, auth = basicAuth(p)) {
  const res = await fetch(p.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: res.status, json: (await res.json()) as TokenJson };
}

async function verifyAccessToken(p: DevIdp, token: string) {
  const jwks = await getJwks(p.jwksUri);
  return jwtVerify(token, createLocalJWKSet(jwks), { issuer: p.issuer, audience: 'api', typ: 'at+jwt', algorithms: ['RS256'] });
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(p: DevIdp, params: Record<string, string>): string {
  const url = new URL('/auth', p.issuer);
  const defaults = { client_id: p.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid profile email', state: 'st-1' };
  for (const [k, v] of Object.entries({ ...defaults, ...params })) url.searchParams.set(k, v);
  return url.href;
}

const atRedirect = (url: URL) => url.href.startsWith(REDIRECT_URI);

t.test('discovery names the issuer the IdP listens on and its endpoints', async (t) => {
  const d = await getJson(`${idp.issuer}/.well-known/openid-configuration`);
  t.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/, 'issuer is the loopback origin with the real port');
  t.equal(d.issuer, idp.issuer);
  t.equal(d.jwks_uri, idp.jwksUri);
  t.equal(d.token_endpoint, idp.tokenEndpoint);
  t.equal(d.end_session_endpoint, `${idp.issuer}/session/end`, 'RP-initiated logout is on');
  t.same(d.code_challenge_methods_supported, ['S256']);
  t.same(d.response_types_supported, ['code']);
  t.ok((d.grant_types_supported as string[]).includes('password'), 'password grant is advertised');
});

t.test('password login issues Keycloak-shaped RS256 JWT access tokens', async (t) => {
  const rows = [
    { description: 'alice is an analyst in /acme/data', user: 'alice', roles: ['analyst', 'user'], groups: ['/acme/data'], client: { portcullis: { roles: ['reports:read'] } } },
    { description: 'bob is a user in /acme/sales', user: 'bob', roles: ['user'], groups: ['/acme/sales'], client: {} },
    { description: 'admin is an admin in /acme', user: 'admin', roles: ['admin', 'user'], groups: ['/acme'], client: { portcullis: { roles: ['reports:read', 'reports:write'] } } },
  ];
  const jwks = await getJwks(idp.jwksUri);
  for (const row of rows) {
    const demo = idp.users.find((u) => u.username === row.user)!;
    const res = await idp.passwordLogin(row.user, demo.password);
    const header = decodeProtectedHeader(res.access_token);
    const { payload } = await verifyAccessToken(idp, res.access_token);
    t.equal(header.alg, 'RS256', `${row.description}: alg`);
    t.equal(header.typ, 'at+jwt', `${row.description}: typ`);
    t.ok(jwks.keys.some((k) => k.kid === header.kid), `${row.description}: kid is published`);
    t.equal(res.token_type, 'Bearer', `${row.description}: token type`);
    t.equal(res.expires_in, 300, `${row.description}: default lifetime`);
    t.type(res.refresh_token, 'string', `${row.description}: refresh token issued`);
    t.match(
      payload,
      {
        sub: demo.id,
        iss: idp.issuer,
        aud: 'api',
        azp: 'portcullis',
        preferred_username: row.user,
        email: demo.email,
        scope: 'openid profile email',
        realm_access: { roles: row.roles },
        groups: row.groups,
      },
      `${row.description}: claims`,
    );
    t.same(payload.resource_access, row.client, `${row.description}: resource_access`);
    t.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300, `${row.description}: exp - iat`);
  }
});

t.test('refused password logins all answer invalid_grant the same way', async (t) => {
  const rows = [
    { description: 'wrong password', username: 'alice', password: 'wrong' },
    { description: 'unknown user', username: 'mallory', password: 'alice-password' },
    { description: 'another user\'s password', username: 'bob', password: 'alice-password' },
    { description: 'username differs in case', username: 'Alice', password: 'alice-password' },
  ];
  const answers = new Set<string>();
  for (const row of rows) {
    const res = await tokenRequest(idp, { grant_type: 'password', username: row.username, password: row.password });
    t.equal(res.status, 400, `${row.description}: status`);
    t.equal(res.json.error, 'invalid_grant', `${row.description}: error`);
    t.notMatch(JSON.stringify(res.json), row.password, `${row.description}: password not echoed`);
    answers.add(JSON.stringify(res.json));
  }
  t.equal(answers.size, 1, 'every refusal has the same body');
  await t.rejects(idp.passwordLogin('alice', 'wrong'), { message: 'password login failed: HTTP 400 invalid_grant' });
});

t.test('the token endpoint authenticates the client', async (t) => {
  const wrongSecret = `Basic ${Buffer.from(`${idp.clientId}:not-the-secret`).toString('base64')}`;
  const res = await tokenRequest(idp, { grant_type: 'password', username: 'alice', password: 'alice-password' }, wrongSecret);
  t.equal(res.status, 401);
  t.equal(res.json.error, 'invalid_client');
});

t.test('refresh tokens rotate and give new JWT access tokens', async (t) => {
  const first = await idp.passwordLogin('alice', 'alice-password');
  const refreshed = await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: first.refresh_token! });
  t.equal(refreshed.status, 200);
  const { payload } = await verifyAccessToken(idp, refreshed.json.access_token);
  t.equal(payload.preferred_username, 'alice');
  t.not(refreshed.json.refresh_token, first.refresh_token, 'a new refresh token replaces the old one');
  const reused = await tokenRequest(idp, { grant_type: 'refresh_token', refresh_token: first.refresh_token! });
  t.equal(reused.status, 400);
  t.equal(reused.json.error, 'invalid_grant', 'a used refresh token is refused');
});

t.test('browser code flow with PKCE ends at the redirect_uri with a code', async (t) => {
  const { verifier, challenge } = pkce();
  const browser = new Browser();
  const page = await browser.login(authorizeUrl(idp, { code_challenge: challenge, code_challenge_method: 'S256' }), {
    username: 'alice',
    password: 'alice-password',
    stopAt: atRedirect,
  });
  const callback = new URL(page.url);
  t.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  t.equal(callback.searchParams.get('state'), 'st-1');
  t.equal(callback.searchParams.get('iss'), idp.issuer);
  const code = callback.searchParams.get('code')!;
  t.type(code, 'string');

  const wrongVerifier = await tokenRequest(idp, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier });
  t.equal(wrongVerifier.json.error, 'invalid_grant', 'a wrong code_verifier is refused');

  const again = await browser.login(authorizeUrl(idp, { code_challenge: challenge, code_challenge_method: 'S256' }), {
    username: 'alice',
    password: 'alice-password',
    stopAt: atRedirect,
  });
  const code2 = new URL(again.url).searchParams.get('code')!;
  t.type(code2, 'string', 'the IdP session signs in again without a form');
  const exchanged = await tokenRequest(idp, { grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT_URI, code_verifier: verifier });
  t.equal(exchanged.status, 200);
  const { payload, protectedHeader } = await verifyAccessToken(idp, exchanged.json.access_token);
  t.equal(protectedHeader.typ, 'at+jwt');
  t.match(payload, { sub: idp.users[0]!.id, aud: 'api', preferred_username: 'alice', groups: ['/acme/data'], scope: 'openid profile email' });
  t.type(exchanged.json.refresh_token, 'string', 'code flow issues a refresh token');
  t.type(exchanged.json.id_token, 'string', 'code flow issues an ID token');
});

t.test('the browser flow refuses what it must', async (t) => {
  const browser = new Browser();
  const noPkce = await browser.goto(authorizeUrl(idp, {}), { stopAt: atRedirect });
  const noPkceUrl = new URL(noPkce.url);
  t.equal(noPkceUrl.searchParams.get('error'), 'invalid_request', 'PKCE is required');

  const { challenge } = pkce();
  const wrong = new Browser();
  await t.rejects(
    wrong.login(authorizeUrl(idp, { code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'alice', password: 'nope', stopAt: atRedirect }),
    { message: `login as alice was refused by ${idp.issuer}` },
    'a wrong password is refused by the login form',
  );
  const unregistered = await new Browser().goto(
    authorizeUrl(idp, { redirect_uri: 'http://127.0.0.1:9/elsewhere', code_challenge: challenge, code_challenge_method: 'S256' }),
    { stopAt: atRedirect },
  );
  t.equal(unregistered.status, 400, 'an unregistered redirect_uri gets an error page, not a redirect');
  t.match(unregistered.body, 'invalid_redirect_uri');
});

t.test('an aborted login returns access_denied to the client', async (t) => {
  const browser = new Browser();
  const { challenge } = pkce();
  const page = await browser.goto(authorizeUrl(idp, { code_challenge: challenge, code_challenge_method: 'S256' }), { stopAt: atRedirect });
  const abort = /href="([^"]*\/abort)"/.exec(page.body)?.[1];
  t.type(abort, 'string', 'the login page links to abort');
  const done = await browser.goto(new URL(abort!, page.url).href, { stopAt: atRedirect });
  t.equal(new URL(done.url).searchParams.get('error'), 'access_denied');
});

t.test('key rotation publishes the new key beside the old one until dropOldKeys', async (t) => {
  const p = await startDevIdp();
  t.teardown(() => p.close());
  const before = await p.passwordLogin('bob', 'bob-password');
  const oldKid = decodeProtectedHeader(before.access_token).kid;
  t.same((await getJwks(p.jwksUri)).keys.map((k) => k.kid), [oldKid], 'one key at start');

  await p.rotateKeys();
  const after = await p.passwordLogin('bob', 'bob-password');
  const newKid = decodeProtectedHeader(after.access_token).kid;
  t.not(newKid, oldKid, 'new tokens carry the new kid');
  const both = (await getJwks(p.jwksUri)).keys;
  t.same(both.map((k) => k.kid).sort(), [oldKid, newKid].sort(), 'JWKS holds both keys');
  t.ok(both.every((k) => k.kty === 'RSA' && k.alg === 'RS256' && k.d === undefined), 'only public RSA keys are published');
  await t.resolves(verifyAccessToken(p, before.access_token), 'tokens of the old key still verify');
  const refreshed = await tokenRequest(p, { grant_type: 'refresh_token', refresh_token: before.refresh_token! });
  t.equal(refreshed.status, 200, 'refresh tokens survive the provider restart');

  await p.dropOldKeys();
  t.same((await getJwks(p.jwksUri)).keys.map((k) => k.kid), [newKid], 'only the current key is left');
  await t.rejects(verifyAccessToken(p, before.access_token), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
});

t.test('counters count requests per endpoint', async (t) => {
  const p = await startDevIdp({ clientId: 'other', clientSecret: 's3cret', audience: 'https://api.example.com', accessTokenTtlSec: 60 });
  t.teardown(() => p.close());
  t.same(p.counters(), { token: 0, jwks: 0, discovery: 0 });
  await getJson(`${p.issuer}/.well-known/openid-configuration`);
  await getJson(`${p.issuer}/.well-known/openid-configuration`);
  await getJson(p.jwksUri);
  const res = await p.passwordLogin('admin', 'admin-password');
  t.same(p.counters(), { token: 1, jwks: 1, discovery: 2 });
  t.equal(p.clientSecret, 's3cret');
  const { payload } = await jwtVerify(res.access_token, createLocalJWKSet(await getJwks(p.jwksUri)), {
    audience: 'https://api.example.com',
  });
  t.equal(payload.azp, 'other', 'options: client id');
  t.equal((payload.exp ?? 0) - (payload.iat ?? 0), 60, 'options: token lifetime');
});

t.test('client_secret_post clients and custom users', async (t) => {
  const carol = { id: 'c-1', username: 'carol', password: 'pw', email: 'c@example.com', name: 'Carol', realmRoles: ['x'], clientRoles: {}, groups: [] };
  const p = await startDevIdp({ tokenEndpointAuthMethod: 'client_secret_post', users: [carol] });
  t.teardown(() => p.close());
  const res = await p.passwordLogin('carol', 'pw');
  t.equal(decodeProtectedHeader(res.access_token).alg, 'RS256');
  await t.rejects(p.passwordLogin('alice', 'alice-password'), { message: /invalid_grant/ }, 'demo users are replaced');
});

t.test('addRedirectUri accepts only absolute http(s) URLs', async (t) => {
  const rows = [
    { description: 'relative path', uri: '/callback' },
    { description: 'javascript scheme', uri: 'javascript:alert(1)' },
    { description: 'fragment', uri: 'http://127.0.0.1/cb#x' },
  ];
  for (const row of rows) t.throws(() => idp.addRedirectUri(row.uri), TypeError, row.description);
});

t.test('CORS is allowed for loopback origins only', async (t) => {
  const rows = [
    { description: 'loopback origin', origin: 'http://127.0.0.1:5173', allowed: true },
    { description: 'localhost origin', origin: 'http://localhost:3000', allowed: true },
    { description: 'foreign origin', origin: 'https://evil.example', allowed: false },
  ];
  for (const row of rows) {
    const res = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: { origin: row.origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: idp.clientId, username: 'x', password: 'y' }),
    });
    await res.arrayBuffer();
    t.equal(res.headers.get('access-control-allow-origin') === row.origin, row.allowed, row.description);
  }
});

t.test('interaction routes without a sign-in in progress answer an error page', async (t) => {
  const rows = [
    { description: 'no interaction cookie', path: '/interaction/abc123', method: 'GET', status: 400, text: 'missing or expired' },
    { description: 'login post without cookie', path: '/interaction/abc123/login', method: 'POST', status: 400, text: 'missing or expired' },
  ];
  for (const row of rows) {
    const res = await fetch(`${idp.issuer}${row.path}`, { method: row.method });
    t.equal(res.status, row.status, `${row.description}: status`);
    t.match(await res.text(), row.text, `${row.description}: page`);
  }
});

t.test('RP-initiated logout ends the IdP session', async (t) => {
  const browser = new Browser();
  const { challenge } = pkce();
  const start = authorizeUrl(idp, { code_challenge: challenge, code_challenge_method: 'S256' });
  await browser.login(start, { username: 'bob', password: 'bob-password', stopAt: atRedirect });
  const confirm = await browser.goto(`${idp.issuer}/session/end?client_id=${idp.clientId}`);
  t.equal(confirm.status, 200);
  const form = parseForms(confirm.body, confirm.url)[0]!;
  t.equal(form.action, `${idp.issuer}/session/end/confirm`, 'the logout form posts to the confirm endpoint');
  const done = await browser.submit(confirm, form, { logout: 'yes' });
  t.match(done.body, 'You are signed out', 'post-logout page');
  const again = await browser.goto(start, { stopAt: atRedirect });
  t.match(again.body, 'name="password"', 'the next authorization asks for the password again');
});
