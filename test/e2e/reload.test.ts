/**
 * SIGHUP reload end to end (docs/operations.md): requests in flight while the config is swapped all
 * complete; a valid new file applies to new requests; an invalid one is refused with its
 * problems on stderr and changes nothing; both are counted and audited.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import { sample, scrape } from '../support/metrics.js';

const ROUTES = `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`;

const h = await harness(t, { routes: ROUTES });
const alice = await h.login('alice');
const auth = { authorization: `Bearer ${alice}` };

function inFlight(n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => http(`${h.sidecar.url}/slow?ms=400`, { headers: auth }).then((r) => r.status)));
}

t.test('a valid new config applies to new requests; requests in flight complete', async (t) => {
  t.equal((await http(`${h.sidecar.url}/x`, { headers: auth })).status, 200);
  const running = inFlight(10);
  await new Promise((r) => setTimeout(r, 100));
  writeFileSync(h.sidecar.configFile, h.yaml.replace('    upstream: ' + h.upstream.url + '\n', `    upstream: ${h.upstream.url}\n    require: { roles: [admin] }\n`));
  h.sidecar.signal('SIGHUP');
  await h.sidecar.waitForLog('"msg":"config reloaded"');
  t.same(await running, Array(10).fill(200), 'every request in flight completed');
  t.equal((await http(`${h.sidecar.url}/x`, { headers: auth })).status, 403, 'the new rule applies');
  const admin = await h.login('admin');
  t.equal((await http(`${h.sidecar.url}/x`, { headers: { authorization: `Bearer ${admin}` } })).status, 200);
  t.equal((await h.sidecar.waitForAudit((a) => a.event === 'config_reload' && a.decision === 'allowed')).length, 1, 'the reload is audited');
  t.equal(sample(await scrape(h.sidecar.adminUrl), 'portcullis_config_reloads_total', { result: 'ok' }), 1);
});

t.test('an invalid new config is refused with its problems and changes nothing', async (t) => {
  writeFileSync(h.sidecar.configFile, `${h.yaml}\nroutez: []\n`);
  const running = inFlight(5);
  h.sidecar.signal('SIGHUP');
  const line = await h.sidecar.waitForLog('"msg":"config reload failed"');
  t.match(line, /routez: unknown key/);
  t.match(line, /portcullis\.yaml:\d+:\d+/);
  t.same(await running, Array(5).fill(403), 'the previous (reloaded) rule still answers');
  t.equal((await http(`${h.sidecar.url}/x`, { headers: auth })).status, 403);
  t.equal(sample(await scrape(h.sidecar.adminUrl), 'portcullis_config_reloads_total', { result: 'error' }), 1);
  t.equal((await http(`${h.sidecar.adminUrl}/readyz`)).status, 200);
});

t.test('a reload while the IdP is down keeps the last good keys (no 503 after SIGHUP)', async (t) => {
  const reloads = (): number => h.sidecar.stderr().filter((l) => l.includes('"msg":"config reloaded"')).length;
  const before = reloads();
  writeFileSync(h.sidecar.configFile, h.yaml);
  h.sidecar.signal('SIGHUP');
  for (let i = 0; i < 100 && reloads() === before; i++) await new Promise((r) => setTimeout(r, 50));
  const token = await h.mintToken();
  t.equal((await http(`${h.sidecar.url}/x`, { headers: { authorization: `Bearer ${token}` } })).status, 200, 'test issuer keys loaded');

  await h.jwks.close();
  h.sidecar.signal('SIGHUP');
  for (let i = 0; i < 100 && reloads() === before + 1; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(reloads(), before + 2, 'reloaded with the IdP down');
  const fresh = await h.mintToken({ sub: 'after-reload' });
  t.equal((await http(`${h.sidecar.url}/x`, { headers: { authorization: `Bearer ${fresh}` } })).status, 200, 'stale keys still verify');
  t.equal((await http(`${h.sidecar.adminUrl}/readyz`)).status, 200, 'still ready');
});
