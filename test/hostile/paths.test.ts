/**
 * Hostile request targets on the proxy port (docs/decisions.md normalisation; docs/security.md "Headers and
 * paths"): encoded dots, overlong UTF-8, double encoding, `;` path parameters (Tomcat-style
 * backends, Keycloak CVE-2026-0976), encoded controls, malformed escapes, fragments, case, and
 * absolute-form targets. Letter case never moves a request to another route. A row either is refused (400 `invalid_path`, nothing upstream), is
 * judged as the path it really names (401/403), or is proxied with exactly the judged path.
 */
import t from 'tap';
import { harness, standardRoutes } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';
import { assertDenied, assertStillUp, bearer, idpHits } from './support.js';

const h = await harness(t, { routes: standardRoutes({ admin: true }) });
const alice = await h.login('alice');

// [raw target, status without a token, error, path the upstream receives when proxied]
type Row = [string, number, string | undefined, string | undefined];
const rows: Row[] = [
  ['/public/%2e%2e/admin', 401, 'unauthorized', undefined],
  ['/public/%2E%2E/admin', 401, 'unauthorized', undefined],
  ['/public/.%2e/admin', 401, 'unauthorized', undefined],
  ['/public/%2e./admin', 401, 'unauthorized', undefined],
  ['/public/%2e/../admin', 401, 'unauthorized', undefined],
  ['/public//..//admin', 401, 'unauthorized', undefined],
  ['/public;x=1/../admin', 400, 'invalid_request', undefined],
  ['/%2e%2e/public', 400, 'invalid_request', undefined],
  ['/public/%2e%2e/%2e%2e/public', 400, 'invalid_request', undefined],
  ['/public/.;/admin', 400, 'invalid_request', undefined],
  ['/public/..%3b/admin', 400, 'invalid_request', undefined],
  ['/public/..%3B/admin', 400, 'invalid_request', undefined],
  ['/public/.%2e;jsessionid=1/admin', 400, 'invalid_request', undefined],
  ['/public/%5c..%5cadmin', 400, 'invalid_request', undefined],
  ['/public/%2f..%2fadmin', 400, 'invalid_request', undefined],
  ['/public/%09/../admin', 400, 'invalid_request', undefined],
  ['/public/%0d%0aX-Injected:%201', 400, 'invalid_request', undefined],
  ['/public/%u002e%u002e/admin', 400, 'invalid_request', undefined],
  ['/public/%', 400, 'invalid_request', undefined],
  ['/public/%zz', 400, 'invalid_request', undefined],
  ['/public/%7f', 400, 'invalid_request', undefined],
  ['/public#/../admin', 400, 'invalid_request', undefined],
  ['/public/x#', 400, 'invalid_request', undefined],
  ['*', 400, 'invalid_request', undefined],
  ['public/x', 400, undefined, undefined],
  ['ftp://evil.example/public/x', 400, 'invalid_request', undefined],
  ['/public/%252e%252e/admin', 200, undefined, '/public/%252e%252e/admin'],
  ['/public/%25%32%65%25%32%65/admin', 200, undefined, '/public/%252e%252e/admin'],
  ['/public/%c0%ae%c0%ae/admin', 200, undefined, '/public/%C0%AE%C0%AE/admin'],
  ['/public/%e0%80%ae%e0%80%ae/admin', 200, undefined, '/public/%E0%80%AE%E0%80%AE/admin'],
  ['/public/%ef%bc%8e%ef%bc%8e/admin', 200, undefined, '/public/%EF%BC%8E%EF%BC%8E/admin'],
  ['/%70%75%62%6c%69%63/x', 200, undefined, '/public/x'],
  ['http://evil.example/public/x', 200, undefined, '/public/x'],
  ['HTTP://evil.example:1/public/x?q=1', 200, undefined, '/public/x?q=1'],
  ['http://evil.example/public/../admin', 401, 'unauthorized', undefined],
  ['http://evil.example', 401, 'unauthorized', undefined],
  // Prefixes match without letter case (frameworks serve /PUBLIC as /public); the path is kept.
  ['/PUBLIC/x', 200, undefined, '/PUBLIC/x'],
  ['/Public/x', 200, undefined, '/Public/x'],
  ['/ADMIN/x', 401, 'unauthorized', undefined],
  ['/public%20/x', 401, 'unauthorized', undefined],
  ['/public./x', 401, 'unauthorized', undefined],
  ['/public~/x', 401, 'unauthorized', undefined],
  ['/admin%3F/public', 401, 'unauthorized', undefined],
  ['/admin?/public', 401, 'unauthorized', undefined],
];

t.beforeEach(() => h.upstream.reset());

for (const [raw, status, error, upstreamUrl] of rows) {
  t.test(`${JSON.stringify(raw)} → ${status}${upstreamUrl ? ` proxied as ${upstreamUrl}` : ''}`, async (t) => {
    const idpBefore = idpHits(h);
    const res = await http(`${h.sidecar.url}/`, { rawPath: raw });
    if (upstreamUrl !== undefined) {
      t.equal(res.status, status);
      t.equal(res.json<Echoed>().url, upstreamUrl, 'the upstream receives the judged path');
      t.equal(h.upstream.requests().length, 1);
    } else {
      await assertDenied(t, h, res, { status, ...(error === undefined ? {} : { error }), reason: status === 400 && error !== undefined ? 'invalid_path' : undefined, idpBefore });
    }
  });
}

// A `;` parameter on a segment is a separate path to the sidecar but the same one to a Tomcat
// or Spring backend: /admin;x/panel must be judged as /admin, or refused — never proxied under
// the catch-all route to a user without the admin role.
const paramRows = ['/admin;/panel', '/admin;jsessionid=1/panel', '/admin;x=../panel', '/admin%3b/panel', '/admin;'];
for (const raw of paramRows) {
  t.test(`${raw} with a non-admin token is not proxied (403 or 400)`, async (t) => {
    const res = await http(`${h.sidecar.url}/`, { rawPath: raw, headers: bearer(alice) });
    t.ok(res.status === 403 || res.status === 400, `status ${res.status}`);
    t.equal(h.upstream.requests().length, 0, 'nothing reached the upstream');
  });
}

t.test('control: alice reaches the catch-all route and is 403 on /admin', async (t) => {
  t.equal((await http(`${h.sidecar.url}/x`, { headers: bearer(alice) })).status, 200);
  t.equal((await http(`${h.sidecar.url}/admin/panel`, { headers: bearer(alice) })).status, 403);
});

t.test('the process is still up after the table', (t) => assertStillUp(t, h));
