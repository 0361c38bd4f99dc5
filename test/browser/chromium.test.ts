/**
 * The browser support itself: what a failed test leaves behind, a screenshot and the HTML of
 * its page under .tap/screenshots/<file>/<test>.
 */
import t from 'tap';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { capture, startChromium } from '../support/chromium.js';

const chromium = await startChromium(t);

t.test('capture writes the PNG and the HTML of the page', async (t) => {
  const page = await chromium.page(t);
  await page.setContent('<!doctype html><title>x</title><h1>Login cancelled</h1>');
  const png = await capture(page, 'test/browser/chromium.test.ts', 'a failed test: 403 / page');
  t.teardown(() => rmSync(dirname(png), { recursive: true, force: true }));
  t.match(png, /\.tap\/screenshots\/chromium\.test\.ts\/a-failed-test-403-page\.png$/);
  t.same([...readFileSync(png).subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG image');
  const html = png.replace(/\.png$/, '.html');
  t.ok(existsSync(html));
  t.match(readFileSync(html, 'utf8'), '<h1>Login cancelled</h1>');
});
