/**
 * Hostile cookies (docs/decisions.md; authentik CVE-2026-25748): duplicate auth cookies (the
 * first one is judged, every copy is removed before the upstream), several Cookie headers, a
 * valid cookie next to a broken Authorization header (the header is judged), name look-alikes,
 * quoting and encoding games. The upstream never receives an auth cookie of any copy.
 */
import t from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';
import { assertDenied, assertStillUp, bearer, idpHits } from './support.js';

const h = await harness(t, { routes: `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
` });
const good = await h.login('alice');
const expired = await h.mintToken({ exp: Math.floor(Date.now() / 1000) - 3600 });

type Row = [name: string, headers: () => Record<string, string | string[]>, status: number, error: string | undefined, reason: string | undefined];
const rows: Row[] = [
  ['bad auth cookie first, valid second', () => ({ cookie: `access_token=${expired}; access_token=${good}` }), 401, 'invalid_token', 'expired'],
  ['valid auth cookie first, bad second: first judged, no copy forwarded', () => ({ cookie: `access_token=${good}; access_token=${expired}` }), 200, undefined, undefined],
  ['two Cookie headers, bad one first', () => ({ cookie: [`access_token=${expired}`, `access_token=${good}`] }), 401, 'invalid_token', 'expired'],
  ['valid cookie and an Authorization header with another scheme', () => ({ cookie: `access_token=${good}`, authorization: 'Basic YWRtaW46YWRtaW4=' }), 401, 'invalid_request', 'bad_scheme'],
  ['valid cookie and an empty Authorization header', () => ({ cookie: `access_token=${good}`, authorization: '' }), 401, 'invalid_request', 'bad_scheme'],
  ['valid cookie and a bare Bearer', () => ({ cookie: `access_token=${good}`, authorization: 'Bearer' }), 401, 'invalid_request', 'bad_scheme'],
  ['valid cookie and a garbage bearer token', () => ({ cookie: `access_token=${good}`, ...bearer('garbage') }), 401, 'invalid_token', 'malformed'],
  ['valid cookie and an expired bearer token', () => ({ cookie: `access_token=${good}`, ...bearer(expired) }), 401, 'invalid_token', 'expired'],
  ['garbage cookie and a valid bearer token', () => ({ cookie: 'access_token=garbage', ...bearer(good) }), 200, undefined, undefined],
  ['cookie name in upper case', () => ({ cookie: `ACCESS_TOKEN=${good}` }), 401, 'unauthorized', 'missing_token'],
  ['cookie name with a suffix', () => ({ cookie: `access_token2=${good}` }), 401, 'unauthorized', 'missing_token'],
  ['cookie name with a prefix', () => ({ cookie: `__Host-access_token=${good}` }), 401, 'unauthorized', 'missing_token'],
  ['empty auth cookie', () => ({ cookie: 'access_token=' }), 401, 'unauthorized', 'missing_token'],
  ['percent-encoded token', () => ({ cookie: `access_token=${encodeURIComponent(good).replaceAll('.', '%2E')}` }), 401, 'invalid_token', 'malformed'],
  ['token split over two cookies', () => ({ cookie: `access_token=${good.slice(0, 40)}; access_token=${good.slice(40)}` }), 401, 'invalid_token', 'malformed'],
  ['quoted valid token', () => ({ cookie: `access_token="${good}"` }), 200, undefined, undefined],
  ['space before the equals sign', () => ({ cookie: `access_token =${good}` }), 200, undefined, undefined],
  ['cookie over 8 KiB', () => ({ cookie: `access_token=${'A'.repeat(9000)}` }), 401, 'invalid_token', 'malformed'],
];

t.beforeEach(() => h.upstream.reset());

for (const [name, headers, status, error, reason] of rows) {
  t.test(`${name} → ${status}`, async (t) => {
    const idpBefore = idpHits(h);
    const res = await http(`${h.sidecar.url}/x`, { headers: headers() });
    if (status === 200) {
      t.equal(res.status, 200);
      const cookie = String(res.json<Echoed>().headers.cookie ?? '');
      t.notOk(cookie.includes('access_token'), 'no copy of the auth cookie reaches the upstream');
      t.notOk(cookie.includes(good.slice(-20)), 'the token is not forwarded');
    } else {
      await assertDenied(t, h, res, { status, ...(error === undefined ? {} : { error }), ...(reason === undefined ? {} : { reason }), idpBefore });
    }
  });
}

t.test('other cookies pass through untouched next to a removed auth cookie', async (t) => {
  const res = await http(`${h.sidecar.url}/x`, { headers: { cookie: `a=1; access_token=${good}; b=2; access_token=x` } });
  t.equal(res.json<Echoed>().headers.cookie, 'a=1; b=2');
});

t.test('the process is still up after the table', (t) => assertStillUp(t, h));
