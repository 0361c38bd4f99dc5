import t from 'tap';
import { browserLinks, htmlErrorPage, prefersHtml } from '../../../src/http/html-error.js';
import { errorResponse } from '../../../src/http/respond.js';

t.test('prefersHtml honours q-values; */* alone is not a browser', async (t) => {
  const rows: Array<[string | undefined, boolean]> = [
    ['text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', true],
    ['*/*', false],
    [undefined, false],
    ['application/json', false],
    ['application/json, text/html', false],
    ['text/html;q=0.5, application/json', false],
    ['application/json;q=0.5, text/html', true],
    ['text/*', true],
    ['text/html;q=0', false],
    ['TEXT/HTML', true],
    ['text/html;q=0.8, */*;q=0.8', false],
  ];
  for (const [accept, want] of rows) t.equal(prefersHtml(accept), want, String(accept));
});

t.test('the page escapes everything, and the answer carries a strict CSP', async (t) => {
  const page = htmlErrorPage(403, 'insufficient_scope', 'x', '<id>"', { login: '/_auth/start?rd=%2F"><script>', logout: '/_auth/logout' });
  t.notMatch(page, /<script>|<id>|%2F"/, 'no markup from the values');
  t.match(page, '&lt;id&gt;&quot;');
  t.match(page, 'href="/_auth/start?rd=%2F&quot;&gt;&lt;script&gt;"');
  t.match(page, 'Log out');
  t.notMatch(page, /<script|src=|https?:/, 'no script, no external asset');
  const answer = errorResponse('insufficient_scope', { requestId: 'r1', html: {} });
  t.equal(answer.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(answer.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
  t.equal(answer.headers['x-content-type-options'], 'nosniff');
  t.equal(answer.headers['cache-control'], 'no-store');
  t.match(answer.body, 'r1');
  t.match(errorResponse('login_cancelled', { requestId: 'r', html: { login: '/s' } }).body, /Login cancelled.*Try again/);
  t.equal(errorResponse('insufficient_scope', { requestId: 'r' }).headers['content-type'], 'application/json', 'JSON without html');
});

t.test('browserLinks: none for API clients, none without browser login', async (t) => {
  const paths = { startPath: '/_auth/start', logoutPath: '/_auth/logout' };
  t.equal(browserLinks('application/json', paths, { login: true }), undefined);
  t.same(browserLinks('text/html', undefined, { login: true }), {});
  t.same(browserLinks('text/html', paths, { login: true, rd: '/a?b=c&d', logout: true }), { login: '/_auth/start?rd=%2Fa%3Fb%3Dc%26d', logout: '/_auth/logout' });
  t.same(browserLinks('text/html', paths, { login: false }), {});
});
