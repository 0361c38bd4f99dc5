/**
 * A reload never changes what a request in flight uses: a plug-in authenticator holds one
 * request inside authenticate() (until the test releases it) while SIGHUP swaps in a new valid
 * config. The held request still ends 200, judged by the old plug-in, and the old plug-in's
 * close() runs only after that request has ended.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harness } from '../support/harness.js';
import { http, stopServer } from '../support/http.js';
import type { Echoed } from '../support/http.js';

/** The plug-in reports to the gate; a request with `x-hold` waits in authenticate() for the gate's answer. */
const PLUGIN = `let instances = 0;
export default (options) => {
  const id = ++instances;
  const report = (what) => fetch(options.gate + '/' + what + '?instance=' + id).then((r) => r.text());
  const identity = { user: 'gate-' + id, groups: [], roles: [], claims: {} };
  return {
    name: 'gate',
    async authenticate(request) {
      if (request.headers['x-hold'] !== undefined) await report('hold');
      return identity;
    },
    async close() {
      await report('closed');
    },
  };
};
`;

/** Events in the order the gate saw them, e.g. `hold 1`, `released`, `closed 1`. */
const events: string[] = [];
const held: ServerResponse[] = [];
const gate = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://gate');
  const what = `${url.pathname.slice(1)} ${url.searchParams.get('instance') ?? ''}`;
  events.push(what);
  if (url.pathname === '/hold') held.push(res);
  else res.end('ok');
});
await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
t.teardown(() => stopServer(gate));
const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;

const dir = mkdtempSync(join(tmpdir(), 'portcullis-gate-'));
const plugin = join(dir, 'gate.mjs');
writeFileSync(plugin, PLUGIN);

const ROUTES = `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`;
const h = await harness(t, {
  routes: ROUTES,
  extra: `authenticators:\n  - type: module\n    path: ${plugin}\n    options: { gate: "${gateUrl}" }\nshutdown_timeout: 30s\n`,
});

async function waitFor(what: () => boolean, label: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !what(); waited += 20) {
    if (waited >= timeoutMs) throw new Error(`timed out waiting for ${label}; events: ${events.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('a request in flight keeps its plug-in through a reload; the old plug-in closes after it', async (t) => {
  const inFlight = http(`${h.sidecar.url}/held`, { headers: { 'x-hold': '1' } });
  await waitFor(() => held.length === 1, 'the request to reach authenticate()');
  t.same(events, ['hold 1'], 'the request is inside the first plug-in instance');

  // A new, valid config: one more route, same plug-in (a new instance is loaded).
  writeFileSync(h.sidecar.configFile, h.yaml.replace('routes:\n', `routes:\n  - name: extra\n    match: { path: /extra }\n    upstream: ${h.upstream.url}\n`));
  h.sidecar.signal('SIGHUP');
  await h.sidecar.waitForLog('"msg":"config reloaded"');

  const fresh = await http(`${h.sidecar.url}/after`);
  t.equal(fresh.status, 200, 'a new request is served by the new state');
  t.equal(fresh.json<Echoed>().headers['x-auth-request-user'], 'gate-2', 'judged by the new plug-in instance');
  t.notOk(events.includes('closed 1'), 'the old plug-in is still open while its request is in flight');

  events.push('released');
  held[0]!.end('ok');
  const res = await inFlight;
  t.equal(res.status, 200, 'the request in flight ends 200');
  t.equal(res.json<Echoed>().headers['x-auth-request-user'], 'gate-1', 'judged by the plug-in it started with');

  await waitFor(() => events.includes('closed 1'), 'the old plug-in to close');
  t.ok(events.indexOf('closed 1') > events.indexOf('released'), 'closed only after the request ended');
  t.notOk(events.includes('closed 2'), 'the current plug-in stays open');
});
