import t from 'tap';
import type { Test } from 'tap';
import { Browser } from '../support/browser.js';
import { COOKIE_SECRET, assertNoLeak, startHarness } from '../support/login-harness.js';

let skewMs = 0;
const h = await startHarness({ now: () => Date.now() + skewMs });
t.teardown(() => h.close());
const START = `${h.url}/_auth/start`;
const CALLBACK = `${h.url}/_auth/callback`;
const ALICE = { username: 'alice', password: 'alice-password' };
const atCallback = (u: URL): boolean => u.pathname === '/_auth/callback';

/** Values that must never show up in an error body, an audit line or a log line. */
const secrets: string[] = [h.idp.clientSecret, COOKIE_SECRET, 'alice-password'];
const errorBodies: string[] = [];

/** Signs in at the IdP and stops at the redirect back to the callback (not yet requested). */
async function untilCallback(browser: Browser, rd = '/'): Promise<URL> {
  const page = await browser.login(`${START}?rd=${encodeURIComponent(rd)}`, { ...ALICE, stopAt: atCallback });
  const url = new URL(page.url);
  secrets.push(url.searchParams.get('code') ?? '', url.searchParams.get('state') ?? '');
  return url;
}

async function expectRefused(t: Test, cookie: string | undefined, url: string, status: number, error: string, description: string): Promise<void> {
  const tokenCalls = h.idp.counters().token;
  const json = { accept: 'application/json' };
  const res = await new Browser().request(url, { headers: cookie === undefined ? json : { ...json, cookie } });
  const text = await res.text();
  errorBodies.push(text);
  t.equal(res.status, status, description);
  t.equal((JSON.parse(text) as { error: string }).error, error, description);
  t.equal(h.idp.counters().token, tokenCalls, `${description}: no token endpoint call`);
  t.notOk(res.headers.getSetCookie().some((c) => c.startsWith('access_token=') && !c.startsWith('access_token=;')), `${description}: no auth cookie`);
}

// The whole login in a real browser is test/browser/login.test.ts; here what a browser cannot show.
t.test('start: the authorization request and the raw Set-Cookie lines', async (t) => {
  const start = await new Browser().request(`${START}?rd=${encodeURIComponent('/dashboard?tab=1&x=<b>')}`);
  t.equal(start.status, 302);
  const auth = new URL(start.headers.get('location') ?? '');
  t.equal(`${auth.origin}${auth.pathname}`, `${h.idp.issuer}/auth`, 'to the discovered authorization endpoint');
  const q = auth.searchParams;
  t.same(
    { response_type: q.get('response_type'), client_id: q.get('client_id'), redirect_uri: q.get('redirect_uri'), scope: q.get('scope'), method: q.get('code_challenge_method') },
    { response_type: 'code', client_id: h.idp.clientId, redirect_uri: CALLBACK, scope: 'openid profile email', method: 'S256' },
  );
  for (const name of ['state', 'nonce', 'code_challenge']) t.match(q.get(name), /^[A-Za-z0-9_-]{43}$/, `${name}: 32 random bytes`);
  const cookies = start.headers.getSetCookie();
  t.match(cookies[0], new RegExp(`^portcullis_flow_${q.get('state')!.slice(0, 8)}=[^;]+; HttpOnly; Secure; SameSite=Lax; Path=/_auth/callback; Max-Age=600$`));
  t.equal(cookies[1], 'access_token=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'session fixation: auth cookie cleared');
});

t.test('rd through start: hostile values refused with 400, benign ones accepted', async (t) => {
  const rows: ReadonlyArray<readonly [string, string, number]> = [
    ['path', '/app', 302],
    ['path with query', '/app?a=1&b=2', 302],
    ['public_url origin', `${h.url}/x`, 302],
    ['allow-listed host', 'https://allowed.example.org/', 302],
    ['scheme-relative', '//evil.example/', 400],
    ['backslash', '/\\evil.example', 400],
    ['encoded backslash', '/%5Cevil.example', 400],
    ['tab smuggling', '/\t/evil.example', 400],
    ['foreign host', 'https://evil.example/', 400],
    ['userinfo trick', `${h.url}@evil.example/`, 400],
    ['javascript scheme', 'javascript:alert(1)', 400],
    ['subdomain of the allowed host is not the host', 'https://x.allowed.example.org/', 400],
    ['encoded double slash', '/%2F%2Fevil.example', 400],
  ];
  for (const [description, rd, status] of rows) {
    const res = await fetch(`${START}?rd=${encodeURIComponent(rd)}`, { redirect: 'manual' });
    const text = await res.text();
    t.equal(res.status, status, description);
    if (status === 400) {
      t.equal((JSON.parse(text) as { error: string }).error, 'invalid_request', description);
      t.equal(res.headers.get('set-cookie'), null, `${description}: no flow cookie`);
      errorBodies.push(text);
    }
  }
  const missing = await fetch(START, { redirect: 'manual' });
  t.equal(missing.status, 302, 'missing rd means /');
  t.equal((await fetch(START, { method: 'POST', redirect: 'manual' })).status, 405);
});

t.test('final redirect target after callback', async (t) => {
  const rows: ReadonlyArray<readonly [string, string, string]> = [
    ['missing rd goes to /', '', 'content="0;url=/"'],
    ['path with a query, escaped in HTML', '/dashboard?tab=1&x=<b>', 'content="0;url=/dashboard?tab=1&amp;x=&lt;b&gt;"'],
    ['absolute URL on public_url', `${h.url}/reports?q=a"b`, `content="0;url=${h.url}/reports?q=a%22b"`],
    ['allow-listed host', 'https://allowed.example.org/home', 'content="0;url=https://allowed.example.org/home"'],
  ];
  for (const [description, rd, expected] of rows) {
    const browser = new Browser();
    const start = rd === '' ? START : `${START}?rd=${encodeURIComponent(rd)}`;
    const page = await browser.login(start, ALICE);
    t.equal(page.status, 200, description);
    t.match(page.body, expected, description);
  }
});

t.test('state tampering, expiry and replay: 400 invalid_state, zero token-endpoint calls', async (t) => {
  const browser = new Browser();
  const cb = await untilCallback(browser);
  const state = cb.searchParams.get('state')!;
  const flowName = `portcullis_flow_${state.slice(0, 8)}`;
  const sealed = browser.cookiesFor(CALLBACK)[flowName]!;
  const withParams = (params: Record<string, string | null>): string => {
    const u = new URL(cb.href);
    for (const [k, v] of Object.entries(params)) {
      if (v === null) u.searchParams.delete(k);
      else u.searchParams.set(k, v);
    }
    return u.href;
  };

  const flowCookie = `${flowName}=${sealed}`;
  const flip = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA');
  await expectRefused(t, undefined, cb.href, 400, 'invalid_request', 'another browser (no flow cookie)');
  await expectRefused(t, `${flowName}=${flip}`, cb.href, 400, 'invalid_request', 'tampered flow cookie');
  await expectRefused(t, flowCookie, withParams({ state: `${state.slice(0, 8)}${'A'.repeat(35)}` }), 400, 'invalid_request', 'state changed, same cookie name');
  await expectRefused(t, flowCookie, withParams({ state: null }), 400, 'invalid_request', 'state missing');
  await expectRefused(t, flowCookie, withParams({ state: 'short' }), 400, 'invalid_request', 'state malformed');
  await expectRefused(t, flowCookie, withParams({ iss: 'https://evil.example' }), 400, 'invalid_request', 'iss of another issuer (RFC 9207)');

  skewMs = 601_000;
  const expiredCalls = h.idp.counters().token;
  const expired = await fetch(cb.href, { headers: { cookie: `${flowName}=${sealed}` } });
  skewMs = 0;
  t.equal(expired.status, 400, 'flow cookie older than 10 minutes');
  t.equal(h.idp.counters().token, expiredCalls, 'expired: no token call');
  errorBodies.push(await expired.text());

  const errorParam = withParams({ error: 'access_denied', code: null });
  const denied = await fetch(errorParam, { headers: { cookie: `${flowName}=${sealed}` } });
  t.equal(denied.status, 401, 'IdP error parameter');
  t.equal(((await denied.json()) as { error: string }).error, 'access_denied', 'a cancelled login is not a credentials error');
  t.match(denied.headers.getSetCookie()[0], new RegExp(`^${flowName}=; .*Max-Age=0`), 'flow cookie cleared on an error answer too');

  const ok = await browser.goto(cb.href);
  t.equal(ok.status, 200, 'the genuine callback still works once');
  t.notOk(browser.cookiesFor(CALLBACK)[flowName], 'the flow cookie is gone from the browser');
  const replayCalls = h.idp.counters().token;
  const replay = await browser.request(cb.href);
  t.equal(replay.status, 400, 'replayed callback (flow cookie gone)');
  t.equal(h.idp.counters().token, replayCalls, 'replay: no token call');
  errorBodies.push(await replay.text());
  t.ok((await h.logins('browser', 'invalid_state')) >= 8);
});

t.test('PKCE: a code from one flow with the state of another is refused by the IdP', async (t) => {
  const browser = new Browser();
  const a = await untilCallback(browser, '/a');
  const b = await untilCallback(browser, '/b');
  const mixed = new URL(a.href);
  mixed.searchParams.set('state', b.searchParams.get('state')!);
  const res = await browser.request(mixed.href);
  errorBodies.push(await res.text());
  t.equal(res.status, 401, 'code_verifier of flow b does not match the challenge of code a');
  t.notOk(browser.cookiesFor(`${h.url}/`).access_token, 'no auth cookie');
});

// The silent refresh itself runs in a real browser in test/browser/refresh.test.ts.
t.test('a tampered refresh cookie: the browser is sent to log in and the cookie is cleared', async (t) => {
  const browser = new Browser();
  await browser.login(START, ALICE);
  const refresh = browser.cookiesFor(`${h.url}/`).access_token_refresh!;
  secrets.push(refresh);
  const res = await new Browser().request(`${h.url}/after-refresh`, { headers: { cookie: `access_token_refresh=${refresh.slice(0, -3)}xyz` } });
  t.equal(res.status, 302, 'sent to log in');
  t.ok(res.headers.getSetCookie().some((c) => c.startsWith('access_token_refresh=; ')), 'and the refresh cookie is cleared');
  t.equal(await h.logins('browser', 'refresh_failed'), 1);
});

t.test('concurrent requests with the same refresh cookie share one renewal', async (t) => {
  const browser = new Browser();
  await browser.login(START, ALICE);
  const refresh = browser.cookiesFor(`${h.url}/`).access_token_refresh!;
  const before = h.idp.counters().token;
  const plain = new Browser();
  const statuses = await Promise.all(
    Array.from({ length: 5 }, () => plain.request(`${h.url}/parallel`, { headers: { accept: 'text/html', cookie: `access_token_refresh=${refresh}` } }).then((r) => r.status)),
  );
  t.same(statuses, [200, 200, 200, 200, 200], 'every request is served with the renewed token');
  t.equal(h.idp.counters().token, before + 1, 'one refresh_token grant for all of them');
});

t.test('logout clears cookies and redirects to the end-session endpoint', async (t) => {
  const browser = new Browser();
  await browser.login(START, ALICE);
  const res = await browser.request(`${h.url}/_auth/logout`);
  t.equal(res.status, 302);
  const target = new URL(res.headers.get('location') ?? '');
  t.equal(`${target.origin}${target.pathname}`, `${h.idp.issuer}/session/end`);
  t.equal(target.searchParams.get('client_id'), h.idp.clientId);
  t.equal(target.searchParams.get('post_logout_redirect_uri'), `${h.url}/`);
  const cleared = (name: string): string => `${name}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  t.same(res.headers.getSetCookie(), [
    ...['access_token', ...[1, 2, 3, 4, 5, 6, 7].map((i) => `access_token_${i}`)].map(cleared),
    cleared('access_token_refresh'),
  ], 'the auth cookie, every chunk name and the refresh cookie are cleared');
  const left = Object.keys(browser.cookiesFor(`${h.url}/`)).filter((n) => n.startsWith('access_token'));
  t.same(left, [], 'no portcullis cookie left in the jar');
  const idpPage = await browser.goto(target.href);
  t.equal(idpPage.status, 200, 'the IdP accepts the end-session request');
  t.match(h.audit.at(-1), { event: 'logout', decision: 'allowed', status: 302 });
  t.equal((await fetch(`${h.url}/_auth/logout`, { method: 'PUT' })).status, 405);
});

t.test('logout from another site is refused and changes nothing; the same origin ends the session at the IdP', async (t) => {
  const browser = new Browser();
  await browser.login(START, ALICE);
  const refresh = browser.cookiesFor(`${h.url}/`).access_token_refresh!;
  secrets.push(refresh);
  const withRefreshOnly = { accept: 'application/json', cookie: `access_token_refresh=${refresh}` };
  const renewed = await fetch(`${h.url}/_auth/userinfo`, { headers: withRefreshOnly });
  t.equal(renewed.status, 200, 'before logout the refresh cookie yields a token');

  const foreign: Array<[string, Record<string, string>]> = [
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'sec-fetch-site': 'same-site' }],
    ['Origin of another site', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
    ['Referer of another site', { referer: 'https://evil.example/page' }],
  ];
  for (const [name, headers] of foreign) {
    for (const method of ['GET', 'POST']) {
      const res = await browser.request(`${h.url}/_auth/logout`, { method, headers: { accept: 'application/json', ...headers } });
      t.equal(res.status, 403, `${method}, ${name}`);
      t.equal(((await res.json()) as { error: string }).error, 'forbidden', `${method}, ${name}: forbidden_origin`);
      t.same(res.headers.getSetCookie(), [], `${method}, ${name}: no cookie touched`);
    }
  }
  t.ok(browser.cookiesFor(`${h.url}/`).access_token_refresh, 'still signed in');
  const page = await browser.request(`${h.url}/_auth/logout`, { headers: { 'sec-fetch-site': 'cross-site', accept: 'text/html' } });
  t.match(page.headers.get('content-type'), /^text\/html/, 'a browser sees the refusal as a page');

  const res = await browser.request(`${h.url}/_auth/logout`, { headers: { 'sec-fetch-site': 'same-origin', referer: `${h.url}/somewhere` } });
  t.equal(res.status, 302, 'the same origin logs out');
  const target = new URL(res.headers.get('location') ?? '');
  const hint = target.searchParams.get('id_token_hint');
  t.ok(hint !== null && hint.split('.').length === 3, 'id_token_hint is the ID token of the session');
  t.equal(target.searchParams.get('client_id'), h.idp.clientId);
  if (hint !== null) secrets.push(hint);
  const after = await fetch(`${h.url}/_auth/userinfo`, { headers: withRefreshOnly });
  t.equal(after.status, 401, 'the old refresh cookie replayed after logout yields no token: the IdP revoked it');
  t.notMatch(h.logs.join('\n'), /idp_revocation/, 'the revocation succeeded (a failure is logged)');
  const plain = await fetch(`${h.url}/_auth/logout`, { method: 'POST', redirect: 'manual' });
  t.equal(plain.status, 302, 'a client without Origin, Referer or Sec-Fetch-Site may log out');
});

t.test('no token, code, state or secret in any error body, audit line or log line', async (t) => {
  t.ok(errorBodies.length >= 15);
  const needles = secrets.filter((s) => s !== '');
  t.equal(assertNoLeak(errorBodies.join('\n'), needles), undefined, 'error bodies');
  t.equal(assertNoLeak(JSON.stringify(h.audit), needles), undefined, 'audit');
  t.equal(assertNoLeak(h.logs.join('\n'), needles), undefined, 'operational log');
});
