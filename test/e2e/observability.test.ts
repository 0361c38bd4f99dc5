/**
 * Metrics and the audit log end to end: a scripted mix of valid, expired, forged and missing
 * tokens moves exactly the expected counters; audit lines carry every docs/operations.md field; the token
 * series stay bounded; no secret ever reaches a log line, a metric or an error body.
 */
import t from 'tap';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harness, standardRoutes } from '../support/harness.js';
import { http } from '../support/http.js';
import { sample, scrape, series } from '../support/metrics.js';
import { tokenFingerprint } from '../../src/verify/index.js';

const ROUTES = standardRoutes({ admin: true });

const AUDIT_FIELDS = ['time', 'event', 'request_id', 'decision', 'reason', 'route', 'method', 'host', 'path', 'client_ip', 'user', 'issuer', 'token', 'jti', 'status', 'duration_ms'];

t.test('a scripted mix of requests moves the expected counters and audit lines', async (t) => {
  const h = await harness(t, { routes: ROUTES, extra: 'metrics:\n  token_series_limit: 20\n' });
  const base = h.sidecar.url;
  const alice = await h.login('alice');
  const expired = await h.mintToken({ exp: Math.floor(Date.now() / 1000) - 600 });
  const forged = `${alice.slice(0, alice.lastIndexOf('.'))}.${Buffer.from('forged-signature').toString('base64url')}`;
  const before = await scrape(h.sidecar.adminUrl);

  const script: Array<[string, Record<string, string>]> = [
    ['/app', { authorization: `Bearer ${alice}` }],
    ['/app', { authorization: `Bearer ${alice}` }],
    ['/app?secret=querystring', { authorization: `Bearer ${expired}` }],
    ['/app', { authorization: `Bearer ${forged}` }],
    ['/app', {}],
    ['/admin', { authorization: `Bearer ${alice}` }],
    ['/public', {}],
  ];
  const statuses = [];
  for (const [path, headers] of script) statuses.push((await http(`${base}${path}`, { headers })).status);
  t.same(statuses, [200, 200, 401, 401, 401, 403, 200]);

  const after = await scrape(h.sidecar.adminUrl);
  const delta = (name: string, labels: Record<string, string> = {}): number => sample(after, name, labels) - sample(before, name, labels);
  const req = 'portcullis_requests_total';
  t.equal(delta(req, { route: 'app', decision: 'allowed', reason: 'none' }), 2);
  t.equal(delta(req, { route: 'app', decision: 'denied', reason: 'expired' }), 1);
  t.equal(delta(req, { route: 'app', decision: 'denied', reason: 'bad_signature' }), 1);
  t.equal(delta(req, { route: 'app', decision: 'denied', reason: 'missing_token' }), 1);
  t.equal(delta(req, { route: 'admin', decision: 'denied', reason: 'insufficient_scope' }), 1);
  t.equal(delta(req, { route: 'public', decision: 'public', reason: 'none' }), 1);

  const user = h.idp.users.find((u) => u.username === 'alice')!;
  const tok = 'portcullis_token_requests_total';
  t.equal(delta(tok, { token: tokenFingerprint(alice), subject: user.id, result: 'valid' }), 3, 'two allowed + one 403 with a valid token');
  t.equal(delta(tok, { token: 'other', subject: 'unknown', result: 'invalid' }), 2, 'expired + forged, no per-token series');
  t.equal(delta('portcullis_verified_token_cache_hits_total'), 2);
  t.equal(delta('portcullis_verified_token_cache_misses_total'), 3);
  t.ok(sample(after, 'portcullis_jwks_keys', { issuer: 'idp' }) >= 1);
  t.ok(sample(after, 'portcullis_jwks_refresh_total', { issuer: 'idp', result: 'ok', cause: 'startup' }) >= 1);
  t.ok(delta('portcullis_auth_duration_seconds_count', { decision: 'denied' }) >= 4);
  t.ok(delta('portcullis_upstream_duration_seconds_count', { route: 'app', status_class: '2xx' }) >= 2);
  t.ok(sample(after, 'process_cpu_user_seconds_total') > 0, 'default process metrics');

  const audit = await h.sidecar.waitForAudit((a) => a.event === 'access', script.length);
  t.equal(audit.length, script.length, 'one audit line per request (allowed ones included by default)');
  for (const line of audit) t.same(Object.keys(line).slice(0, AUDIT_FIELDS.length), AUDIT_FIELDS);
  const expiredLine = audit.find((a) => a.reason === 'expired')!;
  t.match(expiredLine, { decision: 'denied', route: 'app', method: 'GET', path: '/app', status: 401, client_ip: '127.0.0.1', token: tokenFingerprint(expired) });
  const allowedLine = audit.find((a) => a.decision === 'allowed')!;
  t.match(allowedLine, { user: user.id, issuer: h.idp.issuer, token: tokenFingerprint(alice), status: 200 });
  t.type(allowedLine.duration_ms, 'number');

  const everything = [...h.sidecar.stdout(), ...h.sidecar.stderr(), (await http(`${h.sidecar.adminUrl}/metrics`)).body].join('\n');
  for (const secret of [alice, expired, forged, h.idp.clientSecret, 'querystring']) {
    for (let i = 0; i + 16 <= secret.length; i += 16) {
      if (everything.includes(secret.slice(i, i + 16))) t.fail(`a 16-character piece of a secret leaked at offset ${i}`);
    }
  }
});

t.test('distinct valid tokens fold into token="other" past the limit; invalid ones add no series', async (t) => {
  const h = await harness(t, { routes: ROUTES, extra: 'metrics:\n  token_series_limit: 5\n' });
  for (let i = 0; i < 12; i++) {
    const token = await h.mintToken({ sub: `user-${i}` });
    t.equal((await http(`${h.sidecar.url}/app`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  }
  for (let i = 0; i < 30; i++) {
    const token = await h.mintToken({ sub: `evil-${i}`, aud: `random-${i}` });
    t.equal((await http(`${h.sidecar.url}/app`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
  }
  const s = await scrape(h.sidecar.adminUrl);
  const tokenSeries = series(s, 'portcullis_token_requests_total');
  t.equal(tokenSeries.length, 5 + 2, 'five admitted, other/other for valid, other/unknown for invalid');
  t.equal(sample(s, 'portcullis_token_requests_total', { token: 'other', subject: 'other', result: 'valid' }), 7);
  t.equal(sample(s, 'portcullis_token_requests_total', { token: 'other', subject: 'unknown', result: 'invalid' }), 30);
  t.notOk(tokenSeries.some((k) => k.includes('evil-')));
});

t.test('audit to an unwritable file: requests still succeed, the failure is reported and counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  const blocked = join(dir, 'is-a-directory');
  mkdirSync(blocked);
  const h = await harness(t, { routes: ROUTES, extra: `audit:\n  output: ${blocked}\n` });
  const alice = await h.login('alice');
  for (let i = 0; i < 20; i++) {
    t.equal((await http(`${h.sidecar.url}/app`, { headers: { authorization: `Bearer ${alice}` } })).status, 200);
  }
  await h.sidecar.waitForLog('"msg":"audit sink failed"');
  const s = await scrape(h.sidecar.adminUrl);
  t.ok(sample(s, 'portcullis_audit_write_errors_total') >= 1);
  t.equal((await http(`${h.sidecar.adminUrl}/healthz`)).status, 200);
});

t.test('operator fields: username on every access line, the failed requirement on a 403, the last-success gauge', async (t) => {
  const startedSec = Math.floor(Date.now() / 1000);
  const routes = `${ROUTES}
  - name: staff
    match: { path: /staff }
    upstream: {{UPSTREAM}}
    issuers: [idp]
`;
  const h = await harness(t, { routes });
  const token = await h.mintToken({ preferred_username: 'bob.the.user', realm_access: { roles: ['user'] } });
  const auth = { authorization: `Bearer ${token}` };
  t.equal((await http(`${h.sidecar.url}/app`, { headers: auth })).status, 200);
  t.equal((await http(`${h.sidecar.url}/admin`, { headers: auth })).status, 403);
  t.equal((await http(`${h.sidecar.url}/staff`, { headers: auth })).status, 401);
  const lines = await h.sidecar.waitForAudit((a) => a.event === 'access', 3);
  const byRoute = (route: string) => lines.find((l) => l.route === route);
  t.match(byRoute('app'), { user: 'user-1', username: 'bob.the.user', requirement: null, status: 200 });
  t.match(byRoute('admin'), { reason: 'insufficient_scope', username: 'bob.the.user', requirement: 'roles', status: 403 });
  t.match(byRoute('staff'), { reason: 'untrusted_issuer', username: 'bob.the.user', requirement: 'issuer', status: 401 });

  const s = await scrape(h.sidecar.adminUrl);
  for (const issuer of ['idp', 'test']) {
    const at = sample(s, 'portcullis_jwks_last_success_timestamp_seconds', { issuer });
    t.ok(at >= startedSec && at <= Date.now() / 1000 + 1, `${issuer}: the gauge holds the time of the start-up fetch (${at})`);
  }
});

t.test('an expired token loses its series and frees its slot for a live token', async (t) => {
  const h = await harness(t, { routes: ROUTES, extra: 'metrics:\n  token_series_limit: 2\n' });
  const tok = 'portcullis_token_requests_total';
  const expSec = Math.floor(Date.now() / 1000) + 3;
  const short = [await h.mintToken({ sub: 'short-1', exp: expSec }), await h.mintToken({ sub: 'short-2', exp: expSec })];
  for (const token of short) t.equal((await http(`${h.sidecar.url}/app`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  const late = await h.mintToken({ sub: 'late', exp: expSec + 600 });
  t.equal((await http(`${h.sidecar.url}/app`, { headers: { authorization: `Bearer ${late}` } })).status, 200);
  let s = await scrape(h.sidecar.adminUrl);
  t.equal(sample(s, tok, { token: tokenFingerprint(short[0]!), subject: 'short-1', result: 'valid' }), 1, 'a live token has its series');
  t.equal(sample(s, tok, { token: 'other', subject: 'other', result: 'valid' }), 1, 'the third token found the limit full');

  // Bounded wait: the short tokens expire three seconds after they were minted.
  const deadline = Date.now() + 20_000;
  while (series(s, tok).some((k) => k.includes('short-')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    s = await scrape(h.sidecar.adminUrl);
  }
  t.notOk(series(s, tok).some((k) => k.includes('short-')), 'the expired tokens have no series left');

  const fresh = await h.mintToken({ sub: 'fresh' });
  t.equal((await http(`${h.sidecar.url}/app`, { headers: { authorization: `Bearer ${fresh}` } })).status, 200);
  s = await scrape(h.sidecar.adminUrl);
  t.equal(sample(s, tok, { token: tokenFingerprint(fresh), subject: 'fresh', result: 'valid' }), 1, 'a new token gets a real series, not other');
  t.equal(sample(s, tok, { token: 'other', subject: 'other', result: 'valid' }), 1, 'other did not grow');
});
