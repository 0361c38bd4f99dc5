/**
 * Silent renewal in Chromium: the dev IdP issues access tokens that live a few seconds, the
 * browser drops the expired auth cookie by itself, and the next page load is served after one
 * refresh_token grant, with new cookies and no trip to the sign-in form.
 */
import t from 'tap';
import { cookiesByName, eventually, startChromium } from '../support/chromium.js';
import { atIdp, loginAt, navigations, startDevStack } from '../support/dev-stack.js';
import { sample, scrape } from '../support/metrics.js';

const ACCESS_TOKEN_TTL_SEC = 5;
const stack = await startDevStack(t, { idp: { accessTokenTtlSec: ACCESS_TOKEN_TTL_SEC } });
const chromium = await startChromium(t);

t.test('after the access token expires, the next page is served after one silent refresh', async (t) => {
  const page = await chromium.page(t);
  await loginAt(stack, page, 'alice', '/');
  const before = await cookiesByName(page, `${stack.url}/`);
  const firstRefresh = before.get('access_token_refresh')?.value;
  t.ok(firstRefresh, 'refresh cookie set at login');
  t.ok((before.get('access_token')?.expires ?? -1) > 0, 'the auth cookie has a lifetime (not a session cookie)');

  const expired = await eventually(async () => !(await cookiesByName(page, `${stack.url}/`)).has('access_token'), (ACCESS_TOKEN_TTL_SEC + 10) * 1000);
  t.ok(expired, 'the browser drops the auth cookie when the token expires');
  const tokenCalls = stack.idp.counters().token;
  const refreshedBefore = sample(await scrape(stack.sidecar.adminUrl), 'portcullis_logins_total', { kind: 'browser', result: 'refreshed' });
  stack.upstream.reset();

  const res = await page.goto(`${stack.url}/after-expiry?x=1`);
  t.equal(res?.status(), 200, 'the page is served');
  t.notOk(atIdp(stack, page), 'no sign-in form');
  t.equal(page.url(), `${stack.url}/after-expiry?x=1`);
  const [seen] = navigations(stack);
  t.equal(seen?.url, '/after-expiry?x=1');
  t.equal(seen?.headers['x-auth-request-preferred-username'], 'alice', 'the upstream sees the identity on that very request');
  t.equal(stack.idp.counters().token, tokenCalls + 1, 'one refresh_token grant');
  const refreshed = sample(await scrape(stack.sidecar.adminUrl), 'portcullis_logins_total', { kind: 'browser', result: 'refreshed' });
  t.equal(refreshed, refreshedBefore + 1, 'counted as a refresh');

  const after = await cookiesByName(page, `${stack.url}/`);
  t.ok(after.get('access_token')?.value, 'a new auth cookie');
  t.match(after.get('access_token'), { sameSite: 'Strict', httpOnly: true });
  t.not(after.get('access_token_refresh')?.value, firstRefresh, 'the rotated refresh token is sealed anew');
});
