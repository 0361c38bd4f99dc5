/**
 * A 6 KB access token in Chromium (a Keycloak user in many groups): the auth cookie is written
 * in chunks the browser keeps, every page load is served from them, and no page load (favicon
 * included) runs a token grant at the IdP.
 */
import t from 'tap';
import { DEMO_USERS } from '../../src/dev/users.js';
import { cookiesByName, startChromium } from '../support/chromium.js';
import { loginAt, navigations, startDevStack } from '../support/dev-stack.js';

const alice = DEMO_USERS.find((u) => u.username === 'alice');
if (alice === undefined) throw new Error('no demo user alice');
const groups = Array.from({ length: 120 }, (_, i) => `/acme/division-${String(i).padStart(3, '0')}/team-members`);
const stack = await startDevStack(t, { idp: { users: [{ ...alice, groups }] } });
const chromium = await startChromium(t);

t.test('a 6 KB token: chunked cookies, every page served, one grant only', async (t) => {
  const page = await chromium.page(t);
  const tokenCalls = stack.idp.counters().token;
  const landed = await loginAt(stack, page, 'alice', '/big?x=1');
  t.equal(landed.status(), 200, 'the first page is served');
  const jar = await cookiesByName(page, `${stack.url}/`);
  const token = [jar.get('access_token'), jar.get('access_token_1'), jar.get('access_token_2')].map((c) => c?.value ?? '').join('');
  t.ok(token.length > 6000, `the token is ${token.length} bytes`);
  t.ok(jar.has('access_token_1'), 'written in more than one cookie');
  for (const [name, c] of jar) if (name.startsWith('access_token')) t.ok(c.value.length < 4000, `${name} fits a browser cookie`);
  t.match(jar.get('access_token_1'), { sameSite: 'Strict', httpOnly: true, path: '/' }, 'chunks carry the same attributes');

  stack.upstream.reset();
  for (const path of ['/one', '/two', '/three']) {
    const res = await page.goto(`${stack.url}${path}`);
    t.equal(res?.status(), 200, `${path} served`);
  }
  const seen = navigations(stack);
  t.equal(seen.length, 3);
  for (const r of seen) t.equal(String(r.headers['x-auth-request-groups']).split(',').length, groups.length, `${r.url}: the identity with every group`);
  t.notOk(seen.some((r) => String(r.headers.cookie ?? '').includes('access_token')), 'no portcullis cookie reaches the upstream');
  t.equal(stack.idp.counters().token, tokenCalls + 1, 'the code exchange only: no refresh on any page load or favicon');
});
