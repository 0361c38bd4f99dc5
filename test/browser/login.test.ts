/**
 * Browser login in Chromium against the built CLI with `portcullis dev`'s config: a person opens
 * a protected page, signs in at the development IdP's own form and lands on that page, query
 * and all, in one round trip; then userinfo and a route that needs a role they lack.
 */
import t from 'tap';
import { cookiesByName, startChromium } from '../support/chromium.js';
import { atIdp, loginAt, navigations, signIn, startDevStack } from '../support/dev-stack.js';
import type { Echoed } from '../support/http.js';
import { assertNoLeak } from '../support/login-harness.js';
import { sample, scrape } from '../support/metrics.js';

const stack = await startDevStack(t);
const chromium = await startChromium(t);
const alice = stack.user('alice');
t.beforeEach(() => stack.upstream.reset());

const logins = async (): Promise<Array<Record<string, unknown>>> => stack.sidecar.audit().filter((e) => e.event === 'login');

t.test('sign in at the IdP form, back at the original URL with its query, cookie there on the first request', async (t) => {
  const page = await chromium.page(t);
  const path = '/reports/q3?tab=summary&filter=a%20b&next=%2Fx%3Fy%3D1';
  const tokenCalls = stack.idp.counters().token;
  const loginsBefore = (await logins()).length;
  const successes = async (): Promise<number> => sample(await scrape(stack.sidecar.adminUrl), 'portcullis_logins_total', { kind: 'browser', result: 'success' });
  const successesBefore = await successes();

  await page.goto(`${stack.url}${path}`);
  t.ok(atIdp(stack, page), 'a signed-out browser is sent to the IdP sign-in page');
  const landed = await signIn(stack, page, 'alice', `${stack.url}${path}`);

  t.equal(landed.status(), 200, 'the original page is served');
  t.equal(page.url(), `${stack.url}${path}`, 'the address bar shows the original URL with its query');
  const [first] = navigations(stack);
  t.equal(first?.url, path, 'the first page the upstream serves is the original one');
  t.equal(first?.headers['x-auth-request-user'], alice.id, 'and it carries the identity: the Strict cookie was sent on that navigation');
  t.equal((JSON.parse(await landed.text()) as Echoed).headers['x-auth-request-preferred-username'], 'alice');
  t.equal(stack.idp.counters().token, tokenCalls + 1, 'one code exchange, no second round through the IdP');
  const audited = await stack.sidecar.waitForAudit((e) => e.event === 'login', loginsBefore + 1);
  t.equal(audited.length, loginsBefore + 1, 'one login');
  t.match(audited.at(-1), { kind: 'browser', decision: 'allowed', user: alice.id, path: '/_auth/callback', status: 200 });
  t.equal(await successes(), successesBefore + 1, 'counted as a successful browser login');

  const jar = await cookiesByName(page, `${stack.url}/_auth/callback`);
  t.match(jar.get('access_token'), { sameSite: 'Strict', httpOnly: true, secure: false, path: '/' }, 'auth cookie');
  t.match(jar.get('access_token_refresh'), { sameSite: 'Strict', httpOnly: true, secure: false, path: '/' }, 'refresh cookie');
  t.same([...jar.keys()].filter((name) => name.startsWith('portcullis_flow_')), [], 'the flow cookie is gone');
  const values = [...jar.values()].map((c) => c.value);
  const logs = [...stack.sidecar.stderr(), ...stack.sidecar.stdout()].join('\n');
  t.equal(assertNoLeak(logs, [...values, stack.cookieSecret, stack.idp.clientSecret, alice.password]), undefined, 'no cookie or secret in a log line');
});

t.test('/_auth/userinfo in the signed-in browser', async (t) => {
  const page = await chromium.page(t);
  await loginAt(stack, page, 'alice', '/');
  const res = await page.goto(`${stack.url}/_auth/userinfo`);
  t.equal(res?.status(), 200);
  t.match(JSON.parse((await res?.text()) ?? '{}'), { user: alice.id, username: 'alice', email: alice.email, roles: alice.realmRoles });
});

t.test('a route that needs a role: 403 insufficient_scope for alice, the page for admin', async (t) => {
  const page = await chromium.page(t);
  await loginAt(stack, page, 'alice', '/');
  stack.upstream.reset();
  const refused = await page.goto(`${stack.url}/admin`);
  t.equal(refused?.status(), 403);
  t.match(await page.content(), 'insufficient_scope', 'the page names the error code');
  t.equal(page.url(), `${stack.url}/admin`, 'no redirect to a login: signing in again would not help');
  t.same(navigations(stack), [], 'the upstream saw nothing');

  const adminPage = await chromium.page(t);
  const allowed = await loginAt(stack, adminPage, 'admin', '/admin?from=test');
  t.equal(allowed.status(), 200, 'a user with the role gets the page');
  t.equal((JSON.parse(await allowed.text()) as Echoed).url, '/admin?from=test');
});
