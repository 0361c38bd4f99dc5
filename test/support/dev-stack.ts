/**
 * What `portcullis dev` runs, for real-browser tests: the development IdP (a real oidc-provider
 * with its own sign-in form) and the echo upstream in this process, and the built CLI
 * (`dist/cli/main.js serve`) as a process with `dev`'s generated config — or the test's own.
 *
 * The sidecar is http://127.0.0.1:<port> (public_url, auth cookie `secure: false`); the IdP's
 * issuer is http://localhost:<port>, so that the browser sees two sites, as with a real IdP: a
 * redirect from the IdP to the callback is a cross-site navigation, which is what the Lax flow
 * cookie and the Strict auth cookie are designed for. Ports alone would not make them two sites.
 * With a `front` (nginx), the front is started first and its http://127.0.0.1:<port> is
 * public_url instead: the browser only ever talks to it.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { devConfig, freePort } from '../../src/cli/dev.js';
import { startDevIdp } from '../../src/dev/idp.js';
import type { DevIdp, DevIdpOptions, DevUser } from '../../src/dev/idp.js';
import { startEchoUpstream } from '../../src/dev/echo-upstream.js';
import type { EchoRequest, EchoUpstream } from '../../src/dev/echo-upstream.js';
import type { Page, Response } from './chromium.js';
import { STEP_TIMEOUT_MS } from './chromium.js';
import { startSidecarProcess } from './sidecar.js';
import type { SidecarProcess } from './sidecar.js';

/** Generous: the browser tests share the machine with Chromium, and CI machines are small. */
const READY_TIMEOUT_MS = 45_000;

/** What a config is written from; `publicUrl` is the browser's address (the sidecar's, or the front proxy's). */
export type DevConfigValues = Parameters<typeof devConfig>[0] & { readonly publicUrl: string };

/** A proxy in front of the sidecar (nginx): the browser's address. */
export interface Front {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

export interface DevStackOptions {
  /** Options of the development IdP, e.g. `accessTokenTtlSec`. */
  readonly idp?: DevIdpOptions;
  /** The sidecar's config (default: what `portcullis dev` writes). */
  readonly config?: (values: DevConfigValues) => string;
  /**
   * Starts a front proxy before the sidecar, given the host:port the sidecar will listen on and
   * the upstream's: public_url and the IdP's redirect URI name the front's address, so it must
   * be known before the sidecar's config is written. Closed with the stack.
   */
  readonly front?: (sidecar: string, upstream: string) => Promise<Front>;
}

export interface DevStack {
  /** The browser's address, public_url: the sidecar's `http://127.0.0.1:<port>`, or the front's. */
  readonly url: string;
  readonly idp: DevIdp;
  readonly upstream: EchoUpstream;
  readonly sidecar: SidecarProcess;
  /** The cookie secret of the config (a value no answer or log may show). */
  readonly cookieSecret: string;
  user(username: string): DevUser;
}

async function startSidecarOnFreePort(
  idp: DevIdp,
  upstream: EchoUpstream,
  cookieSecret: string,
  opts: DevStackOptions,
): Promise<{ sidecar: SidecarProcess; front: Front | undefined }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const front = await opts.front?.(`127.0.0.1:${port}`, new URL(upstream.url).host);
    const publicUrl = front?.url ?? `http://127.0.0.1:${port}`;
    idp.addRedirectUri(`${publicUrl}/_auth/callback`);
    const values = { port, publicUrl, issuer: idp.issuer, upstream: upstream.url, clientSecret: idp.clientSecret, cookieSecret };
    try {
      return { sidecar: await startSidecarProcess((opts.config ?? devConfig)(values), { readyTimeoutMs: READY_TIMEOUT_MS }), front };
    } catch (err) {
      await front?.close();
      // The free port was taken by someone else before the sidecar bound it: one more try
      // (with a new front, pointed at the new port).
      if (attempt >= 2 || !String(err).includes('EADDRINUSE')) throw err;
    }
  }
}

export async function startDevStack(t: Test, opts: DevStackOptions = {}): Promise<DevStack> {
  const [idp, upstream] = await Promise.all([startDevIdp({ host: '127.0.0.1', issuerHost: 'localhost', ...opts.idp }), startEchoUpstream()]);
  const cookieSecret = randomBytes(32).toString('base64url');
  let started: Awaited<ReturnType<typeof startSidecarOnFreePort>>;
  try {
    started = await startSidecarOnFreePort(idp, upstream, cookieSecret, opts);
  } catch (err) {
    await Promise.all([idp.close(), upstream.close()]);
    throw err;
  }
  const { sidecar, front } = started;
  t.teardown(async () => {
    await front?.close();
    await sidecar.stop();
    await Promise.all([idp.close(), upstream.close()]);
  });
  return {
    url: front?.url ?? sidecar.url,
    idp,
    upstream,
    sidecar,
    cookieSecret,
    user(username) {
      const found = idp.users.find((u) => u.username === username);
      if (found === undefined) throw new Error(`no demo user ${username}`);
      return found;
    },
  };
}

/** The requests the upstream saw for top-level navigations (not favicons or other subresources). */
export function navigations(stack: Pick<DevStack, 'upstream'>): EchoRequest[] {
  return stack.upstream.requests().filter((r) => r.headers['sec-fetch-dest'] === 'document');
}

/** True for the sign-in page of the development IdP. */
export function atIdp(stack: DevStack, page: Page): boolean {
  return page.url().startsWith(`${stack.idp.issuer}/interaction/`);
}

/**
 * Fills and submits the development IdP's sign-in form on `page`, as a person would, and
 * resolves with the answer to the navigation to `target` that ends the login (redirects skipped),
 * once that page has loaded.
 */
export async function signIn(stack: DevStack, page: Page, username: string, target: string): Promise<Response> {
  const user = stack.user(username);
  const href = new URL(target).href;
  await page.getByPlaceholder('username').fill(user.username);
  await page.getByPlaceholder('password').fill(user.password);
  const arrived = page.waitForResponse((r) => r.url() === href && r.request().isNavigationRequest() && (r.status() < 300 || r.status() > 399), {
    timeout: STEP_TIMEOUT_MS,
  });
  const [response] = await Promise.all([arrived, page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.waitForURL(href, { waitUntil: 'load' });
  return response;
}

/** Opens `path` on the sidecar signed out, signs in at the IdP's form and resolves with the page at `path`. */
export async function loginAt(stack: DevStack, page: Page, username: string, path: string): Promise<Response> {
  const target = `${stack.url}${path}`;
  await page.goto(target);
  if (!atIdp(stack, page)) throw new Error(`expected the IdP's sign-in page for ${path}, got ${page.url()}`);
  return signIn(stack, page, username, target);
}
