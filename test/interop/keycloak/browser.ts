/**
 * Keycloak in a real browser, for the interop suite: Keycloak's own sign-in form, a second
 * application in the same Keycloak session (the account console), and, for one portcullis in
 * front of an application, a login through Keycloak, the session kept in its sealed refresh
 * cookie, and the application's "Sign out" button.
 */
import type { Test } from 'tap';
import { decodeJwt } from 'jose';
import { createSealer } from '../../../src/login/seal.js';
import { readSealedSession } from '../../../src/login/session.js';
import type { Chromium, Page, Response as PageResponse } from '../../support/chromium.js';
import { cookiesByName, STEP_TIMEOUT_MS } from '../../support/chromium.js';
import { password } from './keycloak.js';
import type { Keycloak } from './keycloak.js';

/** True when `page` shows Keycloak's sign-in form (its username and password fields). */
export async function atLoginForm(kc: Keycloak, page: Page): Promise<boolean> {
  return page.url().startsWith(`${kc.issuer}/`) && (await page.locator('#username').isVisible()) && (await page.locator('#password').isVisible());
}

/**
 * Fills and submits Keycloak's own sign-in form on `page` as a person would, and resolves with
 * the answer to the navigation to `target` that ends the login (redirects skipped), once that
 * page has loaded.
 */
export async function signInAtKeycloak(page: Page, username: string, target: string): Promise<PageResponse> {
  const href = new URL(target).href;
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password(username));
  const arrived = page.waitForResponse((r) => r.url() === href && r.request().isNavigationRequest() && (r.status() < 300 || r.status() > 399), {
    timeout: STEP_TIMEOUT_MS,
  });
  const [response] = await Promise.all([arrived, page.locator('#kc-login').click()]);
  await page.waitForURL(href, { waitUntil: 'load' });
  return response;
}

/**
 * Signs the Keycloak session of `page`'s browser in to a second client, Keycloak's own account
 * console, as single sign-on does (no form): its authorization request issues a code, which adds
 * the client to the session. The console's page itself is not loaded (answered by the test).
 */
export async function joinAccountConsole(kc: Keycloak, page: Page): Promise<void> {
  const accountUrl = `${kc.issuer}/account/`;
  await page.route((u) => u.href.startsWith(accountUrl), (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>account</title>' }));
  const auth = new URL(`${kc.issuer}/protocol/openid-connect/auth`);
  const params = {
    client_id: 'account-console',
    redirect_uri: accountUrl,
    response_type: 'code',
    scope: 'openid',
    state: 'interop',
    // The account console requires PKCE; the code is never redeemed, any S256 challenge will do.
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(params)) auth.searchParams.set(name, value);
  await page.goto(auth.href);
  if (!new URL(page.url()).searchParams.has('code')) throw new Error(`the account console got no code by single sign-on: ${page.url()}`);
}

/** A browser session of portcullis, as its sealed refresh cookie holds it. */
export interface BrowserSession {
  /** The sealed refresh cookie's value. */
  readonly sealed: string;
  readonly refreshToken: string;
  /** The ID token kept for the logout hint ('' when it was too large to keep). */
  readonly idToken: string;
  /** The Keycloak session (`sid`) and user (`sub`) of the ID token. */
  readonly sid: string;
  readonly sub: string;
}

export interface AppInBrowser {
  /**
   * Opens `path` on portcullis in a fresh browser page for test `t`, which must be sent to
   * Keycloak's sign-in form, signs in there (as alice by default) and resolves with the page at
   * `path`.
   */
  login(t: Test, path: string, username?: string): Promise<{ page: Page; landed: PageResponse }>;
  /** The session in `page`'s refresh cookie, opened with the cookie secret. */
  session(page: Page): Promise<BrowserSession>;
  /**
   * Clicks "Sign out" on a page of the application (a form posting to the logout path, so the
   * browser sends the request from the same origin) and resolves, once the page it leads to
   * has loaded, with the URLs the browser navigated to on the way.
   */
  signOut(page: Page): Promise<URL[]>;
  /** The request to Keycloak's end-session endpoint among `navigated`. */
  endSessionOf(navigated: URL[]): URL | undefined;
}

/** The application behind portcullis at `publicUrl` (with `cookieSecret`), used in `chromium`. */
export function appInBrowser(kc: Keycloak, chromium: Chromium, publicUrl: string, cookieSecret: string): AppInBrowser {
  return {
    async login(t, path, username = 'alice') {
      const page = await chromium.page(t);
      await page.goto(`${publicUrl}${path}`);
      if (!(await atLoginForm(kc, page))) throw new Error(`expected Keycloak's sign-in form for ${path}, got ${page.url()}`);
      return { page, landed: await signInAtKeycloak(page, username, `${publicUrl}${path}`) };
    },
    async session(page) {
      const sealed = (await cookiesByName(page, `${publicUrl}/`)).get('access_token_refresh')?.value ?? '';
      const session = readSealedSession(await createSealer(cookieSecret, Date.now).open('refresh', sealed));
      const idToken = session?.idToken ?? '';
      const claims = idToken === '' ? {} : decodeJwt(idToken);
      return { sealed, refreshToken: session?.refreshToken ?? '', idToken, sid: String(claims.sid), sub: String(claims.sub) };
    },
    async signOut(page) {
      await page.route(`${publicUrl}/account`, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><form method="post" action="/_auth/logout"><button>Sign out</button></form>' }),
      );
      await page.goto(`${publicUrl}/account`);
      const navigated: URL[] = [];
      page.on('request', (r) => {
        if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigated.push(new URL(r.url()));
      });
      const settled = page.waitForResponse((r) => r.request().isNavigationRequest() && (r.status() < 300 || r.status() > 399), { timeout: STEP_TIMEOUT_MS });
      await Promise.all([settled, page.getByRole('button', { name: 'Sign out' }).click()]);
      await page.waitForLoadState('load');
      return navigated;
    },
    endSessionOf(navigated) {
      return navigated.find((u) => u.href.startsWith(`${kc.issuer}/protocol/openid-connect/logout`));
    },
  };
}
