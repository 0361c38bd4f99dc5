/**
 * `workers: 2` (node:cluster): both workers answer on one port, the primary's admin port
 * aggregates their metrics and readiness, SIGHUP reloads every worker, SIGTERM drains all and
 * exits 0.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import { sample, scrape } from '../support/metrics.js';

const h = await harness(t, {
  routes: `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`,
  extra: 'workers: 2\n',
  readyTimeoutMs: 60_000,
});
const alice = await h.login('alice');
const auth = { authorization: `Bearer ${alice}` };

t.test('the primary announces two workers and serves the admin port', async (t) => {
  const ready = await h.sidecar.waitForLog('"msg":"ready"');
  t.match(JSON.parse(ready), { workers: 2 });
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await http(`${h.sidecar.adminUrl}/readyz`)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status, 200, 'ready once both workers have keys');
});

t.test('requests are answered and counted across workers', async (t) => {
  const statuses = await Promise.all(Array.from({ length: 40 }, () => http(`${h.sidecar.url}/x`, { headers: auth }).then((r) => r.status)));
  t.same(statuses, Array(40).fill(200));
  const s = await scrape(h.sidecar.adminUrl);
  t.equal(sample(s, 'portcullis_requests_total', { route: 'app', decision: 'allowed', reason: 'none' }), 40, 'aggregated over workers');
  // Each worker holds the one key of the test issuer: the gauge is not a sum over workers.
  t.equal(sample(s, 'portcullis_jwks_keys', { issuer: 'test' }), 1, 'keys held: the fewest of any worker, not a sum');
  const fetched = sample(s, 'portcullis_jwks_last_success_timestamp_seconds', { issuer: 'test' });
  t.ok(fetched > 0 && fetched <= Date.now() / 1000, 'last key fetch: a time, not a sum of times');
});

t.test('SIGHUP reloads every worker', async (t) => {
  writeFileSync(h.sidecar.configFile, h.yaml.replace(`    upstream: ${h.upstream.url}\n`, `    upstream: ${h.upstream.url}\n    require: { roles: [admin] }\n`));
  h.sidecar.signal('SIGHUP');
  let denied = 0;
  for (let i = 0; i < 100 && denied < 20; i++) {
    const statuses = await Promise.all(Array.from({ length: 20 }, () => http(`${h.sidecar.url}/x`, { headers: auth }).then((r) => r.status)));
    denied = statuses.filter((s) => s === 403).length;
    if (denied < 20) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(denied, 20, 'every worker applies the new rule');
});

t.test('SIGTERM drains the workers and the primary exits 0', async (t) => {
  t.equal(await h.sidecar.stop(), 0);
  t.ok(h.sidecar.stderr().some((l) => l.includes('"msg":"stopped"')));
});
