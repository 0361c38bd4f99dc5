/**
 * Hostile input to the login endpoints (docs/security.md "Browser login"; oauth2-proxy CVE-2020-5233,
 * CVE-2020-11053): `rd` open-redirect tricks through `/_auth/start` (scheme-relative, backslash,
 * whitespace-smuggled, userinfo, look-alike hosts, encodings) are 400 and never become a 302 to
 * the IdP; the login redirect of a browser on the proxy port keeps `rd` on this site; the password
 * login refuses cross-site cookie logins (login CSRF), oversized and ill-typed bodies and a body
 * that stalls (408, connection closed, no IdP call), and never writes the password anywhere.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import { assertDenied, assertStillUp, auditLine, idpHits, rawError, rawExchange, statuses } from './support.js';

const COOKIE_SECRET = 'hostile-cookie-secret-0123456789-abcdefgh';
const h = await harness(t, { routes: `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
` });
// The dev IdP's client secret exists only once it runs: add the login section and reload.
writeFileSync(
  h.sidecar.configFile,
  `${h.yaml}public_url: https://app.example.com
client_body_timeout: 1s
login:
  issuer: idp
  client_id: ${h.idp.clientId}
  client_secret: ${h.idp.clientSecret}
  password: {}
  browser:
    allowed_redirect_hosts: [allowed.example.org]
  cookie_secret: ${COOKIE_SECRET}
`,
);
h.sidecar.signal('SIGHUP');
await h.sidecar.waitForLog('config reloaded');
const base = h.sidecar.url;
const alice = h.idp.users.find((u) => u.username === 'alice')!;

const badRedirects = [
  '//evil.example', '///evil.example', '////evil.example/x', '/\\evil.example', '\\\\evil.example', '\\/evil.example',
  'https://evil.example', 'HTTPS://EVIL.EXAMPLE', 'https:evil.example', 'https:/evil.example', 'http://app.example.com@evil.example',
  'https://app.example.com.evil.example', 'https://evil.example\\@app.example.com', 'https://evil.example#@app.example.com',
  'https://evil.example%23@app.example.com', 'https://allowed.example.org.evil.example', 'https://evilallowed.example.org',
  'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>', ' //evil.example', '\t//evil.example',
  '/\t/evil.example', '/\n/evil.example', '/%09/evil.example', '%2F%2Fevil.example', '/%2Fevil.example', '/%5Cevil.example',
  '%5C%5Cevil.example', '//evil.example%2F..', 'ftp://app.example.com/x',
];
const goodRedirects = ['/', '/dashboard?tab=1', 'https://app.example.com/x', 'https://allowed.example.org/y'];

for (const rd of badRedirects) {
  t.test(`rd ${JSON.stringify(rd)} → 400 invalid_request, no redirect`, async (t) => {
    const before = h.idp.counters().token;
    const res = await http(`${base}/_auth/start?rd=${encodeURIComponent(rd)}`, { headers: { accept: 'application/json' } });
    t.equal(res.status, 400);
    t.equal(res.json().error, 'invalid_request');
    const page = await http(`${base}/_auth/start?rd=${encodeURIComponent(rd)}`, { headers: { accept: 'text/html' } });
    t.equal(page.status, 400, 'a browser gets the same refusal as a page');
    t.notMatch(page.body, 'evil.example', 'the page does not show the refused address');
    t.equal(res.headers.location, undefined);
    t.equal(h.idp.counters().token, before, 'the token endpoint was not contacted');
    t.equal((await auditLine(h, res.headers['x-request-id']))?.reason, 'invalid_redirect');
  });
}

for (const rd of goodRedirects) {
  t.test(`rd ${JSON.stringify(rd)} → 302 to the IdP`, async (t) => {
    const res = await http(`${base}/_auth/start?rd=${encodeURIComponent(rd)}`, { headers: { accept: 'text/html' } });
    t.equal(res.status, 302);
    t.ok(String(res.headers.location).startsWith(h.idp.issuer), 'to the IdP authorization endpoint');
  });
}

t.test('a browser on a protected path is sent to login with rd kept on this site', async (t) => {
  const res = await http(`${base}/`, { rawPath: '//evil.example/x?y=1', headers: { accept: 'text/html' } });
  t.equal(res.status, 302);
  const location = new URL(String(res.headers.location), 'https://app.example.com');
  t.equal(location.pathname, '/_auth/start');
  t.equal(location.searchParams.get('rd'), '/evil.example/x?y=1', 'the normalised path, never a scheme-relative URL');
});

const form = (username: string, password: string): string => new URLSearchParams({ username, password }).toString();
type Row = [string, { headers: Record<string, string>; body: string; query?: string }, number, string];
const rows: Row[] = [
  ['cross-site form POST with ?cookie=true', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: form('alice', alice.password), query: '?cookie=true' }, 403, 'forbidden'],
  ['Sec-Fetch-Site cross-site without Origin', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' }, body: form('alice', alice.password), query: '?cookie=true' }, 403, 'forbidden'],
  ['Origin null (sandboxed frame)', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' }, body: form('alice', alice.password), query: '?cookie=true' }, 403, 'forbidden'],
  ['text/plain JSON from a foreign origin', { headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: JSON.stringify({ username: 'alice', password: alice.password }), query: '?cookie=true' }, 403, 'forbidden'],
  ['body over 16 KiB', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'x'.repeat(20_000) }) }, 413, 'invalid_request'],
  ['username an array', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ['alice'], password: 'x' }) }, 400, 'invalid_request'],
  ['password an object', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: { $ne: '' } }) }, 400, 'invalid_request'],
  ['password missing', { headers: { 'content-type': 'application/json' }, body: '{"username":"alice"}' }, 400, 'invalid_request'],
  ['JSON not an object', { headers: { 'content-type': 'application/json' }, body: '["alice","pw"]' }, 400, 'invalid_request'],
  ['broken JSON', { headers: { 'content-type': 'application/json' }, body: '{"username":' }, 400, 'invalid_request'],
  ['__proto__ member', { headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"username":"admin"},"password":"x"}' }, 400, 'invalid_request'],
];

for (const [name, req, status, error] of rows) {
  t.test(`password login: ${name} → ${status}`, async (t) => {
    const idpBefore = idpHits(h);
    const res = await http(`${base}/_auth/login${req.query ?? ''}`, { method: 'POST', headers: req.headers, body: req.body });
    await assertDenied(t, h, res, { status, error, idpBefore });
    t.equal(res.headers['set-cookie'], undefined, 'no cookie set');
  });
}

t.test('duplicate username members: the last one is used, with its own password check', async (t) => {
  const res = await http(`${base}/_auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"username":"alice","username":"admin","password":${JSON.stringify(alice.password)}}`,
  });
  t.equal(res.status, 401);
  t.equal(res.json().error, 'invalid_grant');
});

t.test('a login body that stalls → 408 request_timeout, the connection closed, the IdP never asked', async (t) => {
  const idpBefore = idpHits(h);
  const errorsBefore = h.sidecar.stderr().filter((l) => l.includes('"level":"error"')).length;
  const head = `POST /_auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`;
  // The client_body_timeout (1 s) ends it; the bound of 10 s only keeps the test from hanging.
  const raw = await rawExchange(base, `${head}{"username":"alice","pass`, 10_000);
  t.same(statuses(raw), [408], 'one answer: 408');
  t.equal(rawError(raw), 'request_timeout');
  t.match(raw, /\r\nconnection: close\r\n/i, 'the connection is closed, the rest of the body never read');
  t.equal(idpHits(h), idpBefore, 'no IdP was contacted');
  t.equal(h.sidecar.stderr().filter((l) => l.includes('"level":"error"')).length, errorsBefore, 'no error logged');
  await assertStillUp(t, h);
});

t.test('no password appears in any log line or body', async (t) => {
  const everything = [...h.sidecar.stderr(), ...h.sidecar.stdout()].join('\n');
  t.notOk(everything.includes(alice.password));
  t.notOk(everything.includes(COOKIE_SECRET));
});

t.test('the process is still up after the table', (t) => assertStillUp(t, h));
