/**
 * A real browser for tests: Debian's Chromium (`$CHROMIUM`, default /usr/bin/chromium; install it
 * with scripts/install-chromium.sh) driven by playwright-core, which downloads no browser.
 *
 * One headless browser per test file (`startChromium(t)`), a fresh context — empty cookie jar —
 * per test (`chromium.page(t)`). When a test has failed, its teardown writes what the page showed
 * to SCREENSHOTS/<file>/<test>.png and .html before closing the context. Every wait is bounded
 * (actions and navigations by STEP_TIMEOUT_MS, closing by CLOSE_TIMEOUT_MS, then the browser
 * process is killed), so a stuck page fails the test instead of hanging it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, BrowserContextOptions, Cookie, Page } from 'playwright-core';
import type { Test } from 'tap';

export type { Cookie, Page, Response } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve(import.meta.dirname, '../../.tap/screenshots');
export const STEP_TIMEOUT_MS = 20_000;
const LAUNCH_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 5_000;

/** Flags for a quiet, self-contained browser: no sandbox (root in CI), nothing fetched in the background. */
const ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-default-browser-check',
  '--no-first-run',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-dev-shm-usage',
];

export interface Chromium {
  readonly browser: Browser;
  /** A new page in a new context for test `t`; captured on failure and closed at `t`'s teardown. */
  page(t: Test, options?: BrowserContextOptions): Promise<Page>;
}

/** `{ value }` once `promise` resolves; undefined when it rejects or `ms` pass first (teardown never throws or hangs). */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise.then((value) => ({ value }), () => undefined), sleep(ms, undefined, { signal: timer.signal }).catch(() => undefined)]);
  } finally {
    timer.abort();
  }
}

function fileName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'test';
}

/** Writes the page's screenshot and HTML under SCREENSHOTS; returns the PNG path (or what failed). */
export async function capture(page: Page, testFile: string, name: string): Promise<string> {
  const dir = join(SCREENSHOTS, fileName(basename(testFile)));
  mkdirSync(dir, { recursive: true });
  const png = join(dir, `${fileName(name)}.png`);
  await bounded(page.screenshot({ path: png, fullPage: true, timeout: CLOSE_TIMEOUT_MS }), CLOSE_TIMEOUT_MS);
  const html = await bounded(page.content(), CLOSE_TIMEOUT_MS);
  writeFileSync(join(dir, `${fileName(name)}.html`), `<!-- ${page.url()} -->\n${html?.value ?? ''}`);
  return existsSync(png) ? png : `no screenshot (the page did not answer), HTML in ${dir}`;
}

/** Launches Chromium for this test file; it is closed (or killed) at the file's teardown. */
export async function startChromium(t: Test): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; install it: bash scripts/install-chromium.sh (or set CHROMIUM)`);
  const server = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: LAUNCH_TIMEOUT_MS });
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout: LAUNCH_TIMEOUT_MS });
  } catch (err) {
    await server.kill();
    throw err;
  }
  t.teardown(async () => {
    await bounded(browser.close(), CLOSE_TIMEOUT_MS);
    if ((await bounded(server.close(), CLOSE_TIMEOUT_MS)) === undefined) await server.kill();
  });
  const testFile = process.argv[1] ?? t.name;
  const pagesPerTest = new Map<string, number>();
  return {
    browser,
    async page(test, options = {}) {
      const n = (pagesPerTest.get(test.fullname) ?? 0) + 1;
      pagesPerTest.set(test.fullname, n);
      const name = n === 1 ? test.name : `${test.name} (page ${n})`;
      const context: BrowserContext = await browser.newContext(options);
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
      const page = await context.newPage();
      test.teardown(async () => {
        if (!test.passing()) test.comment(`screenshot: ${await capture(page, testFile, name)}`);
        await bounded(context.close(), CLOSE_TIMEOUT_MS);
      });
      return page;
    },
  };
}

/** The cookies of `page`'s context for `url`, by name. */
export async function cookiesByName(page: Page, url: string): Promise<Map<string, Cookie>> {
  return new Map((await page.context().cookies(url)).map((c) => [c.name, c]));
}

/**
 * Polls `check` (every 100 ms, for at most `timeoutMs`) until it is true; returns whether it
 * became true. For states a page reaches by itself, such as a cookie expiring.
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs = STEP_TIMEOUT_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}
