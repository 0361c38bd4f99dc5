/**
 * Logout in Chromium: from the application's own page it ends the session at portcullis and at
 * the IdP (the refresh token is revoked, the IdP forgets the sign-in); from a page of another
 * site it is refused and changes nothing.
 */
import t from 'tap';
import { cookiesByName, startChromium, STEP_TIMEOUT_MS } from '../support/chromium.js';
import { atIdp, loginAt, navigations, startDevStack } from '../support/dev-stack.js';

const stack = await startDevStack(t);
const chromium = await startChromium(t);

t.test('logout ends the session: cookies gone, refresh token revoked, the IdP asks for the password again', async (t) => {
  const page = await chromium.page(t);
  await loginAt(stack, page, 'alice', '/');
  const refresh = (await cookiesByName(page, `${stack.url}/`)).get('access_token_refresh')?.value ?? '';
  t.ok(refresh, 'signed in with a refresh cookie');

  await page.goto(`${stack.url}/_auth/logout`);
  t.ok(page.url().startsWith(`${stack.idp.issuer}/session/end`), 'sent to the IdP to end its session');
  await Promise.all([page.waitForURL((u) => !u.href.startsWith(`${stack.idp.issuer}/session/end/confirm`), { timeout: STEP_TIMEOUT_MS }), page.getByRole('button', { name: 'Yes, sign me out' }).click()]);
  const left = [...(await cookiesByName(page, `${stack.url}/`)).keys()].filter((n) => n.startsWith('access_token'));
  t.same(left, [], 'no portcullis cookie left');

  const replay = await fetch(`${stack.url}/_auth/userinfo`, { headers: { accept: 'application/json', cookie: `access_token_refresh=${refresh}` } });
  t.equal(replay.status, 401, 'the old refresh cookie, replayed, yields no token');

  await page.goto(`${stack.url}/_auth/start?rd=%2F`);
  t.ok(atIdp(stack, page), 'a new login shows the sign-in form: the IdP session ended too');
  t.ok(await page.getByPlaceholder('password').isVisible(), 'the password is asked for');
});

t.test('a page of another site that sends the browser to logout gets 403 and the user stays signed in', async (t) => {
  const page = await chromium.page(t);
  await loginAt(stack, page, 'alice', '/');
  // A page on the IdP's host (localhost): another site than the sidecar's 127.0.0.1.
  const evil = `${stack.idp.issuer}/evil-page`;
  const html = `<!doctype html><form id="f" method="post" action="${stack.url}/_auth/logout"></form><a id="a" href="${stack.url}/_auth/logout">logout</a>`;
  await page.route(evil, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));

  await page.goto(evil);
  const posted = await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), page.locator('#f').evaluate((f) => (f as unknown as { submit(): void }).submit())]);
  t.equal(posted[0]?.status(), 403, 'a cross-site POST is refused');
  t.match(await page.content(), 'forbidden', 'shown as a page');
  await page.goto(evil);
  const linked = await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), page.locator('#a').click()]);
  t.equal(linked[0]?.status(), 403, 'a cross-site link is refused');

  stack.upstream.reset();
  const res = await page.goto(`${stack.url}/still-here`);
  t.equal(res?.status(), 200, 'still signed in');
  t.equal(navigations(stack)[0]?.headers['x-auth-request-preferred-username'], 'alice');
});
