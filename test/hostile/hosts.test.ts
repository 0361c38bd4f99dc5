/**
 * Hostile Host headers (docs/security.md "Headers and paths"; oauth2-proxy CVE-2021-21291, Authelia
 * CVE-2026-48794): wildcard look-alikes, userinfo, ports, trailing dots, case, IPv6 literals,
 * lists, and absolute-form targets naming another host. Rows are sent without a token: 200 only
 * where a public route really matches, else 401 on the protected host, 404 elsewhere, 400 for a
 * Host that is not a host.
 */
import t from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import { assertDenied, assertStillUp, idpHits } from './support.js';

const h = await harness(t, { routes: `
  - name: pub
    match: { host: public.example.com, path: / }
    upstream: {{UPSTREAM}}
    auth: public
  - name: b-strict
    match: { host: "*.b.example.com", path: / }
    upstream: {{UPSTREAM}}
  - name: wild
    match: { host: "*.apps.example.com", path: / }
    upstream: {{UPSTREAM}}
    auth: public
  - name: loose
    match: { host: "*.example.com", path: / }
    upstream: {{UPSTREAM}}
    auth: public
  - name: api
    match: { host: api.example.org, path: / }
    upstream: {{UPSTREAM}}
` });

type Row = [host: string, status: number, error: string | undefined, target?: string];
const rows: Row[] = [
  ['public.example.com', 200, undefined],
  ['PUBLIC.Example.COM', 200, undefined],
  ['public.example.com.', 200, undefined],
  ['public.example.com:8443', 200, undefined],
  ['x.apps.example.com', 200, undefined],
  ['X.APPS.example.com', 200, undefined],
  ['a.b.c.apps.example.com', 200, undefined],
  ['a.b.example.com', 401, 'unauthorized'],
  ['a.B.example.com', 401, 'unauthorized'],
  ['A.B.EXAMPLE.COM.', 401, 'unauthorized'],
  ['api.example.org', 401, 'unauthorized'],
  ['API.EXAMPLE.ORG:443', 401, 'unauthorized'],
  ['api.example.org.', 401, 'unauthorized'],
  ['apps.example.org', 404, 'not_found'],
  ['example.com', 404, 'not_found'],
  ['evilexample.com', 404, 'not_found'],
  ['public.example.com.evil.org', 404, 'not_found'],
  ['api.example.org.evil.org', 404, 'not_found'],
  ['xapi.example.org', 404, 'not_found'],
  ['127.0.0.1', 404, 'not_found'],
  ['[::1]', 404, 'not_found'],
  ['[::1]:8080', 404, 'not_found'],
  ['public.example.com..', 400, 'invalid_request'],
  ['.apps.example.com', 400, 'invalid_request'],
  ['evil.org@api.example.org', 400, 'invalid_request'],
  ['api.example.org@evil.org', 400, 'invalid_request'],
  ['user:pw@api.example.org', 400, 'invalid_request'],
  ['public.example.com:80:80', 400, 'invalid_request'],
  ['public.example.com:', 400, 'invalid_request'],
  ['public.example.com, evil.org', 400, 'invalid_request'],
  ['public.example.com/admin', 400, 'invalid_request'],
  ['x_y.apps.example.com', 400, 'invalid_request'],
  ['[::1', 400, 'invalid_request'],
  ['%70ublic.example.com', 400, 'invalid_request'],
  ['api.example.org', 401, 'unauthorized', 'http://public.example.com/x'],
  ['evil.org', 404, 'not_found', 'http://api.example.org/x'],
];

t.beforeEach(() => h.upstream.reset());

for (const [host, status, error, target] of rows) {
  t.test(`Host ${JSON.stringify(host)}${target ? ` with target ${target}` : ''} → ${status}`, async (t) => {
    const idpBefore = idpHits(h);
    const res = await http(`${h.sidecar.url}/`, { rawPath: target ?? '/x', headers: { host } });
    if (status === 200) {
      t.equal(res.status, 200);
      t.equal(h.upstream.requests()[0]?.headers.host, host, 'the upstream sees the Host that was judged');
    } else {
      await assertDenied(t, h, res, { status, ...(error === undefined ? {} : { error }), idpBefore });
    }
  });
}

t.test('X-Forwarded-Host never selects a route on the proxy port', async (t) => {
  const res = await http(`${h.sidecar.url}/x`, { headers: { host: 'api.example.org', 'x-forwarded-host': 'public.example.com' } });
  t.equal(res.status, 401);
  t.equal(h.upstream.requests().length, 0);
});

t.test('the process is still up after the table', (t) => assertStillUp(t, h));
