/**
 * Errors a person can read, in Chromium: "Cancel" at the IdP's form shows "Login cancelled" with
 * a link that starts again; a route that needs a role the user lacks shows the HTML 403 page with
 * "log in again" and "log out".
 */
import t from 'tap';
import { startChromium, STEP_TIMEOUT_MS } from '../support/chromium.js';
import { atIdp, loginAt, startDevStack } from '../support/dev-stack.js';

const stack = await startDevStack(t);
const chromium = await startChromium(t);

t.test('cancel at the IdP: "Login cancelled" with a link that tries again', async (t) => {
  const page = await chromium.page(t);
  await page.goto(`${stack.url}/reports?q=1`);
  t.ok(atIdp(stack, page), 'at the sign-in form');
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${stack.url}/_auth/callback`), { timeout: STEP_TIMEOUT_MS }),
    page.getByRole('link', { name: 'Cancel' }).click(),
  ]);
  await page.waitForLoadState('load');
  t.equal(answer.status(), 401);
  t.equal(await page.title(), 'Login cancelled');
  const text = await page.locator('body').innerText();
  t.notMatch(text, /password is wrong/i, 'not a credentials error');
  t.match(text, /access_denied/);
  t.match(answer.headers()['content-security-policy'], "default-src 'none'");
  await page.getByRole('link', { name: 'Try again' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${stack.idp.issuer}/interaction/`), { timeout: STEP_TIMEOUT_MS });
  t.ok(atIdp(stack, page), 'the retry link starts a new login');
});

t.test('the HTML 403 page: status, code, request id, log in again and log out', async (t) => {
  const page = await chromium.page(t);
  await loginAt(stack, page, 'alice', '/');
  const res = await page.goto(`${stack.url}/admin`);
  t.equal(res?.status(), 403);
  t.equal(res?.headers()['content-type'], 'text/html; charset=utf-8');
  const text = await page.locator('body').innerText();
  t.match(text, /insufficient_scope/);
  t.match(text, res?.headers()['x-request-id'] ?? 'missing', 'the request id is shown');
  t.ok(await page.getByRole('link', { name: 'Log in again' }).isVisible());
  await page.getByRole('link', { name: 'Log out' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${stack.idp.issuer}/session/end`), { timeout: STEP_TIMEOUT_MS });
  t.pass('the log-out link logs out (a same-origin navigation)');
  const api = await fetch(`${stack.url}/admin`, { headers: { accept: 'application/json' } });
  t.equal(api.headers.get('content-type'), 'application/json', 'an API client keeps the JSON');
});
