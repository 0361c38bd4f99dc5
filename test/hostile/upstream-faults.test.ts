/**
 * A misbehaving upstream (docs/decisions.md; docs/security.md http-proxy notes #547, #1586): refused → 502
 * `upstream_unavailable`, reset before the answer → 502, too slow → 504 `upstream_timeout`,
 * reset mid-body → the client's connection is closed (never a hang, never a second answer),
 * an upgrade the upstream refuses or drops → 502. The sidecar stays up and recovers without a
 * restart when the upstream comes back.
 */
import t from 'tap';
import { request } from 'node:http';
import { http } from '../support/http.js';
import { faultyIssuerYaml, startFaultyIdp } from '../support/faulty-idp.js';
import { startFaultyUpstream } from '../support/faulty-upstream.js';
import { assertStillUp, auditLine, bearer, rawExchange, rawError, startEnv, statuses } from './support.js';

const idp = await startFaultyIdp();
const upstream = await startFaultyUpstream();
t.teardown(async () => {
  await upstream.close();
  await idp.close();
});
const env = await startEnv(t, {
  issuers: faultyIssuerYaml(idp, { refresh: '1h' }),
  routes: `  - name: app\n    match: { path: / }\n    upstream: ${upstream.url}\n    timeout: 300ms\n`,
});
const token = await idp.token();
const base = env.sidecar.url;

const rows: Array<[string, string, number, string]> = [
  ['connection reset before the answer', '/reset', 502, 'upstream_unavailable'],
  ['headers slower than the route timeout', '/slow', 504, 'upstream_timeout'],
];
for (const [name, path, status, error] of rows) {
  t.test(`${name} → ${status} ${error}`, async (t) => {
    const res = await http(`${base}${path}`, { headers: bearer(token) });
    t.equal(res.status, status);
    t.equal(res.json().error, error);
    t.equal((await auditLine(env, res.headers['x-request-id']))?.status, status, 'audited with the answered status');
  });
}

t.test('reset mid-body: the client connection is closed, not left hanging', async (t) => {
  const outcome = await new Promise<string>((resolve) => {
    const req = request(`${base}/reset-mid-body`, { headers: bearer(token), agent: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(`ended ${res.statusCode}`));
      res.on('aborted', () => resolve('aborted'));
      res.on('error', () => resolve('aborted'));
    });
    req.on('error', () => resolve('aborted'));
    req.end();
  });
  t.equal(outcome, 'aborted', 'a truncated body is never presented as complete');
});

t.test('refused, then back: 502 while down, 200 after, no restart', async (t) => {
  await upstream.setDown(true);
  const down = await http(`${base}/x`, { headers: bearer(token) });
  t.equal(down.status, 502);
  t.equal(down.json().error, 'upstream_unavailable');
  await upstream.setDown(false);
  const back = await http(`${base}/x`, { headers: bearer(token) });
  t.equal(back.status, 200);
  t.same(back.json(), { path: '/x' });
});

const upgrade = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
for (const path of ['/ws-refused', '/ws-drop']) {
  t.test(`upgrade ${path}: 101 refused upstream → 502 upstream_unavailable`, async (t) => {
    const raw = await rawExchange(base, upgrade(path));
    t.same(statuses(raw), [502]);
    t.equal(rawError(raw), 'upstream_unavailable');
    t.equal(upstream.hits.get(path), 1, 'the upstream was asked once');
  });
}

t.test('still up, and a plain request still passes', async (t) => {
  t.equal((await http(`${base}/ok`, { headers: bearer(token) })).status, 200);
  await assertStillUp(t, env);
});
