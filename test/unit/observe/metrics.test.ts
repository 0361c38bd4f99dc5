// Holds observe/metrics.ts to docs/operations.md: names, types and labels as listed, counts per label set,
// and the cap on per-token series (no label from an unverified token, 'other' past the limit,
// expired tokens' series removed), the last-success gauge.
import t from 'tap';
import { createMetrics, statusClass } from '../../../src/observe/metrics.js';
import type { Metrics } from '../../../src/observe/metrics.js';

/** Series of one metric as `{labels, value}`, read through the registry. */
async function series(m: Metrics, name: string) {
  const metric = m.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`metric ${name} is not registered`);
  return (await metric.get()).values;
}

async function value(m: Metrics, name: string, labels: Record<string, string> = {}) {
  const hit = (await series(m, name)).find((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return hit?.value ?? 0;
}

/** Parses the exposition text into TYPE declarations and the label names used per sample. */
function parseExposition(body: string) {
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const line of body.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const sample = /^([a-z_:]+)\{([^}]*)\} /.exec(line);
    if (sample) {
      const set = labels.get(sample[1]!) ?? new Set<string>();
      for (const pair of sample[2]!.split(',')) set.add(pair.split('=')[0]!);
      labels.set(sample[1]!, set);
    }
  }
  return { types, labels };
}

void t.test('every docs/operations.md metric is exposed with its type and labels', async (t) => {
  const m = createMetrics({ tokenSeriesLimit: 10 });
  m.request('api', 'denied', 'expired');
  m.tokenRequest({ fingerprint: '0123456789ab', subject: 'alice' }, 'valid');
  m.authDuration('allowed', 0.0003);
  m.upstreamDuration('api', 200, 0.02);
  m.jwksRefresh('kc', 'ok', 'startup', 2);
  m.cacheHit();
  m.cacheMiss();
  m.login('password', 'ok');
  m.configReload('ok');
  m.auditDropped();
  m.auditWriteError();
  const { contentType, body } = await m.render();
  t.match(contentType, /^text\/plain; version=0\.0\.4/);
  const { types, labels } = parseExposition(body);
  const rows: { desc: string; name: string; type: string; labels: string[]; sample: string }[] = [
    { desc: 'requests by route, decision, reason', name: 'portcullis_requests_total', type: 'counter', labels: ['route', 'decision', 'reason'], sample: 'portcullis_requests_total' },
    { desc: 'token requests by token, subject, result', name: 'portcullis_token_requests_total', type: 'counter', labels: ['token', 'subject', 'result'], sample: 'portcullis_token_requests_total' },
    { desc: 'auth duration by decision', name: 'portcullis_auth_duration_seconds', type: 'histogram', labels: ['le', 'decision'], sample: 'portcullis_auth_duration_seconds_bucket' },
    { desc: 'upstream duration by route and status class', name: 'portcullis_upstream_duration_seconds', type: 'histogram', labels: ['le', 'route', 'status_class'], sample: 'portcullis_upstream_duration_seconds_bucket' },
    { desc: 'jwks refreshes by issuer, result, cause', name: 'portcullis_jwks_refresh_total', type: 'counter', labels: ['issuer', 'result', 'cause'], sample: 'portcullis_jwks_refresh_total' },
    { desc: 'jwks keys by issuer', name: 'portcullis_jwks_keys', type: 'gauge', labels: ['issuer'], sample: 'portcullis_jwks_keys' },
    { desc: 'last successful key fetch by issuer', name: 'portcullis_jwks_last_success_timestamp_seconds', type: 'gauge', labels: ['issuer'], sample: 'portcullis_jwks_last_success_timestamp_seconds' },
    { desc: 'logins by kind and result', name: 'portcullis_logins_total', type: 'counter', labels: ['kind', 'result'], sample: 'portcullis_logins_total' },
    { desc: 'config reloads by result', name: 'portcullis_config_reloads_total', type: 'counter', labels: ['result'], sample: 'portcullis_config_reloads_total' },
  ];
  for (const row of rows) {
    t.equal(types.get(row.name), row.type, `${row.desc}: type`);
    t.same([...(labels.get(row.sample) ?? [])].sort(), [...row.labels].sort(), `${row.desc}: labels`);
  }
  const unlabelled = [
    'portcullis_verified_token_cache_hits_total',
    'portcullis_verified_token_cache_misses_total',
    'portcullis_audit_dropped_total',
    'portcullis_audit_write_errors_total',
  ];
  for (const name of unlabelled) {
    t.equal(types.get(name), 'counter', `${name}: counter`);
    t.match(body, new RegExp(`^${name} 1$`, 'm'), `${name}: no labels, counted once`);
  }
  t.equal(types.get('process_cpu_user_seconds_total'), 'counter', 'default process metrics, no prefix');
  t.equal(types.get('nodejs_eventloop_lag_seconds'), 'gauge', 'default node metrics, no prefix');
});

void t.test('default metrics can be left out', async (t) => {
  const { body } = await createMetrics({ tokenSeriesLimit: 1, defaultMetrics: false }).render();
  t.notMatch(body, /process_cpu_user_seconds_total/);
  t.match(body, /portcullis_requests_total/);
});

void t.test('counters count per label set', async (t) => {
  const m = createMetrics({ tokenSeriesLimit: 10, defaultMetrics: false });
  const rows: { desc: string; act: () => void; name: string; labels: Record<string, string>; want: number }[] = [
    { desc: 'denied request counted under its reason', act: () => m.request('api', 'denied', 'expired'), name: 'portcullis_requests_total', labels: { route: 'api', decision: 'denied', reason: 'expired' }, want: 1 },
    { desc: 'a second identical request adds one', act: () => m.request('api', 'denied', 'expired'), name: 'portcullis_requests_total', labels: { route: 'api', decision: 'denied', reason: 'expired' }, want: 2 },
    { desc: "empty reason is recorded as 'none'", act: () => m.request('api', 'allowed', ''), name: 'portcullis_requests_total', labels: { route: 'api', decision: 'allowed', reason: 'none' }, want: 1 },
    { desc: 'public decision has its own series', act: () => m.request('docs', 'public', ''), name: 'portcullis_requests_total', labels: { route: 'docs', decision: 'public', reason: 'none' }, want: 1 },
    { desc: 'jwks refresh error by cause', act: () => m.jwksRefresh('kc', 'error', 'unknown_kid', 3), name: 'portcullis_jwks_refresh_total', labels: { issuer: 'kc', result: 'error', cause: 'unknown_kid' }, want: 1 },
    { desc: 'jwks refresh sets the key gauge', act: () => m.jwksRefresh('kc', 'ok', 'interval', 4), name: 'portcullis_jwks_keys', labels: { issuer: 'kc' }, want: 4 },
    { desc: 'gauge follows the last refresh, not a sum', act: () => m.jwksRefresh('kc', 'ok', 'interval', 1), name: 'portcullis_jwks_keys', labels: { issuer: 'kc' }, want: 1 },
    { desc: 'password login failures', act: () => m.login('password', 'invalid_grant'), name: 'portcullis_logins_total', labels: { kind: 'password', result: 'invalid_grant' }, want: 1 },
    { desc: 'browser login success', act: () => m.login('browser', 'ok'), name: 'portcullis_logins_total', labels: { kind: 'browser', result: 'ok' }, want: 1 },
    { desc: 'config reload error', act: () => m.configReload('error'), name: 'portcullis_config_reloads_total', labels: { result: 'error' }, want: 1 },
    { desc: 'cache hit', act: () => m.cacheHit(), name: 'portcullis_verified_token_cache_hits_total', labels: {}, want: 1 },
    { desc: 'cache miss twice', act: () => { m.cacheMiss(); m.cacheMiss(); }, name: 'portcullis_verified_token_cache_misses_total', labels: {}, want: 2 },
    { desc: 'audit drop', act: () => m.auditDropped(), name: 'portcullis_audit_dropped_total', labels: {}, want: 1 },
    { desc: 'audit write error', act: () => m.auditWriteError(), name: 'portcullis_audit_write_errors_total', labels: {}, want: 1 },
  ];
  for (const row of rows) {
    row.act();
    t.equal(await value(m, row.name, row.labels), row.want, row.desc);
  }
});

void t.test('histograms observe into the matching buckets and status class', async (t) => {
  const m = createMetrics({ tokenSeriesLimit: 10, defaultMetrics: false });
  m.authDuration('allowed', 0.0002);
  m.upstreamDuration('api', 503, 0.03);
  m.upstreamDuration('api', 0, 60);
  const auth = await series(m, 'portcullis_auth_duration_seconds');
  const bucket = (le: number) => auth.find((s) => s.labels.le === le && s.labels.decision === 'allowed')?.value;
  t.equal(bucket(0.0001), 0, 'a 0.2 ms decision is above the 0.1 ms bucket');
  t.equal(bucket(0.00025), 1, 'and inside the 0.25 ms bucket');
  t.equal(await value(m, 'portcullis_upstream_duration_seconds', { route: 'api', status_class: '5xx', le: '+Inf' }), 1, '503 counted as 5xx');
  t.equal(await value(m, 'portcullis_upstream_duration_seconds', { route: 'api', status_class: 'error', le: '+Inf' }), 1, 'status 0 counted as error');
  const upstream = await series(m, 'portcullis_upstream_duration_seconds');
  t.equal(upstream.find((s) => s.labels.status_class === 'error' && s.labels.le === 60)?.value, 1, '60 s fits the last finite bucket');
});

void t.test('statusClass maps statuses to classes', (t) => {
  const rows: [string, number, string][] = [
    ['switching protocols', 101, '1xx'],
    ['ok', 200, '2xx'],
    ['redirect', 302, '3xx'],
    ['not found', 404, '4xx'],
    ['bad gateway', 599, '5xx'],
    ['no answer', 0, 'error'],
    ['out of range', 600, 'error'],
  ];
  for (const [desc, status, want] of rows) t.equal(statusClass(status), want, desc);
  t.end();
});

void t.test('per-token series are capped at the limit', async (t) => {
  const m = createMetrics({ tokenSeriesLimit: 1000, defaultMetrics: false });
  for (let i = 0; i < 10_000; i += 1) {
    m.tokenRequest({ fingerprint: i.toString(16).padStart(12, '0'), subject: `user-${i}` }, 'valid');
  }
  const all = await series(m, 'portcullis_token_requests_total');
  t.equal(all.length, 1001, '1000 admitted series plus one "other" series');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: 'other', subject: 'other', result: 'valid' }), 9000, 'the 9000 later pairs fold into other');
  m.tokenRequest({ fingerprint: '000000000005', subject: 'user-5' }, 'invalid');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: '000000000005', subject: 'user-5', result: 'invalid' }), 1, 'an admitted pair keeps its own series');
  m.tokenRequest({ fingerprint: '000000000005', subject: 'someone-else' }, 'valid');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: 'other', subject: 'other', result: 'valid' }), 9001, 'a known token with a new subject is a new pair, folded');
});

void t.test('unverified tokens never give a label', async (t) => {
  const m = createMetrics({ tokenSeriesLimit: 1000, defaultMetrics: false });
  for (let i = 0; i < 10_000; i += 1) m.tokenRequest(undefined, 'invalid');
  const all = await series(m, 'portcullis_token_requests_total');
  t.equal(all.length, 1, 'one series only');
  t.same(all[0]?.labels, { token: 'other', subject: 'unknown', result: 'invalid' });
  t.equal(all[0]?.value, 10_000);
});

void t.test('setTokenSeriesLimit applies a reloaded limit', async (t) => {
  const m = createMetrics({ tokenSeriesLimit: 2, defaultMetrics: false });
  const pair = (i: number) => ({ fingerprint: `00000000000${i}`, subject: `u${i}` });
  m.tokenRequest(pair(1), 'valid');
  m.tokenRequest(pair(2), 'valid');
  m.tokenRequest(pair(2), 'invalid');
  m.tokenRequest(pair(3), 'valid');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: 'other', subject: 'other' }), 1, 'third pair folded at limit 2');

  m.setTokenSeriesLimit(3);
  m.tokenRequest(pair(3), 'valid');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: '000000000003', subject: 'u3' }), 1, 'a raised limit admits a new pair');

  m.setTokenSeriesLimit(1);
  const tokens = (await series(m, 'portcullis_token_requests_total')).map((s) => s.labels.token).sort();
  t.same(tokens, ['000000000001', 'other'], 'a lowered limit keeps the first-admitted pairs and removes the rest');
  m.tokenRequest(pair(2), 'valid');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: 'other', subject: 'other' }), 2, 'a removed pair now folds into other');

  m.setTokenSeriesLimit(0);
  m.tokenRequest(pair(9), 'valid');
  t.same((await series(m, 'portcullis_token_requests_total')).map((s) => s.labels.token), ['other'], 'limit 0 folds every pair');

  const bad: [string, number][] = [['negative', -1], ['fraction', 1.5], ['NaN', Number.NaN]];
  for (const [desc, limit] of bad) {
    t.throws(() => m.setTokenSeriesLimit(limit), { name: 'TypeError', message: 'tokenSeriesLimit must be a non-negative integer' }, desc);
    t.throws(() => createMetrics({ tokenSeriesLimit: limit }), TypeError, `${desc} at creation`);
  }
});

void t.test('the series of an expired token are removed and its slot freed', async (t) => {
  let nowMs = 1_000_000_000_000;
  const m = createMetrics({ tokenSeriesLimit: 2, defaultMetrics: false, now: () => nowMs });
  const nowSec = nowMs / 1000;
  const pair = (i: number, exp: number) => ({ fingerprint: `00000000000${i}`, subject: `u${i}`, exp });
  m.tokenRequest(pair(1, nowSec + 60), 'valid');
  m.tokenRequest(pair(2, nowSec + 300), 'valid');
  m.tokenRequest(pair(3, nowSec + 300), 'valid');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: 'other', subject: 'other' }), 1, 'the limit of 2 is full');

  nowMs += 61_000;
  const tokens = async () => (await series(m, 'portcullis_token_requests_total')).map((s) => s.labels.token).sort();
  t.same(await tokens(), ['000000000002', 'other'], 'a scrape after exp no longer shows the expired token');
  m.tokenRequest(pair(4, nowSec + 600), 'valid');
  t.equal(await value(m, 'portcullis_token_requests_total', { token: '000000000004', subject: 'u4' }), 1, 'the freed slot goes to a new live token');

  nowMs += 10_000_000;
  m.tokenRequest(pair(5, nowSec + 20_000), 'valid');
  t.same(await tokens(), ['000000000005', 'other'], 'admitting a token sweeps the expired ones first');
  m.tokenRequest({ fingerprint: '000000000006', subject: 'u6' }, 'valid');
  m.setTokenSeriesLimit(1);
  nowMs += 100_000_000;
  t.same(await tokens(), ['other'], 'a pair removed by a lower limit leaves a stale heap entry that is skipped');
  m.tokenRequest({ fingerprint: '000000000007', subject: 'u7' }, 'valid');
  nowMs += 1e12;
  t.same(await tokens(), ['000000000007', 'other'], 'a pair without exp stays until the limit says otherwise');
});

void t.test('the last-success gauge is the time of the last ok refresh, per issuer', async (t) => {
  let nowMs = 1_700_000_000_000;
  const m = createMetrics({ tokenSeriesLimit: 1, defaultMetrics: false, now: () => nowMs });
  const gauge = 'portcullis_jwks_last_success_timestamp_seconds';
  m.jwksRefresh('kc', 'error', 'startup', 0);
  t.same(await series(m, gauge), [], 'no success yet: no series (alert on absence)');
  m.jwksRefresh('kc', 'ok', 'startup', 2);
  t.equal(await value(m, gauge, { issuer: 'kc' }), 1_700_000_000);
  nowMs += 30_000;
  m.jwksRefresh('kc', 'error', 'interval', 2);
  t.equal(await value(m, gauge, { issuer: 'kc' }), 1_700_000_000, 'a failed refresh leaves it');
  m.jwksRefresh('kc', 'ok', 'interval', 2);
  m.jwksRefresh('other', 'ok', 'startup', 1);
  t.equal(await value(m, gauge, { issuer: 'kc' }), 1_700_000_030);
  t.equal(await value(m, gauge, { issuer: 'other' }), 1_700_000_030);
});
