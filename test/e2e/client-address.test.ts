/**
 * Client address with the real CLI: only a trusted proxy's X-Forwarded-* count; the client is
 * the first untrusted address from the right of X-Forwarded-For; the v1 switch is one hop and
 * `check` suggests trusted_proxies; forward-auth trusted_sources keep judging the TCP peer.
 */
import t from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';
import { runCli, writeConfig } from '../support/sidecar.js';

const routes = `
  - name: public
    match: { path: /public }
    upstream: {{UPSTREAM}}
    auth: public
  - name: strict
    match: { host: admin.example.com, path: / }
    upstream: {{UPSTREAM}}
    require: { roles: [admin] }
`;
const spoof = { 'x-forwarded-for': '6.6.6.6, 198.51.100.4', 'x-forwarded-host': 'admin.example.com', 'x-forwarded-proto': 'https' };

t.test('behind a trusted proxy: the right-most untrusted X-Forwarded-For entry is the client', async (t) => {
  const h = await harness(t, { routes, extra: 'trusted_proxies: [127.0.0.0/8, 10.0.0.0/8]\nforward_auth: { trusted_sources: [127.0.0.1] }\n' });
  const res = await http(`${h.sidecar.url}/public/a`, { headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.1.2.3' } });
  t.equal(res.status, 200);
  t.equal(res.json<Echoed>().headers['x-forwarded-for'], '6.6.6.6, 198.51.100.4, 10.1.2.3, 127.0.0.1', 'the chain goes on with the peer');
  const [line] = await h.sidecar.waitForAudit((l) => l.path === '/public/a');
  t.equal(line?.client_ip, '198.51.100.4');
  const host = await http(`${h.sidecar.url}/public/b`, { headers: spoof });
  t.equal(host.status, 401, 'the trusted proxy names the host: the strict host route judges');
  const fa = await http(`${h.sidecar.url}/_auth/verify`, {
    headers: { 'x-forwarded-for': '203.0.113.50', 'x-forwarded-uri': '/public/c', 'x-forwarded-method': 'GET', 'x-forwarded-host': 'app' },
  });
  t.equal(fa.status, 200, 'trusted_sources judge the TCP peer, not X-Forwarded-For');
  const [faLine] = await h.sidecar.waitForAudit((l) => l.path === '/public/c');
  t.equal(faLine?.client_ip, '203.0.113.50', 'the audit names the client the proxy reported');
});

t.test('from an untrusted peer X-Forwarded-* mean nothing', async (t) => {
  const h = await harness(t, { routes, extra: 'trusted_proxies: [10.0.0.0/8]\n' });
  const res = await http(`${h.sidecar.url}/public/d`, { headers: spoof });
  t.equal(res.status, 200, 'the host is the Host header, not X-Forwarded-Host');
  const echoed = res.json<Echoed>().headers;
  t.equal(echoed['x-forwarded-for'], '127.0.0.1', 'the client chain is replaced');
  t.equal(echoed['x-forwarded-proto'], 'http');
  const [line] = await h.sidecar.waitForAudit((l) => l.path === '/public/d');
  t.equal(line?.client_ip, '127.0.0.1');
});

t.test('trust_forwarded_headers (v1) is one hop, and check suggests trusted_proxies', async (t) => {
  const h = await harness(t, { routes, extra: 'trust_forwarded_headers: true\n' });
  await http(`${h.sidecar.url}/public/e`, { headers: spoof });
  const [line] = await h.sidecar.waitForAudit((l) => l.path === '/public/e');
  t.equal(line?.client_ip, '198.51.100.4', 'the right-most entry, never the client-written left-most');
  const file = writeConfig(h.yaml);
  const check = await runCli(['check', '-c', file]);
  t.equal(check.code, 0, 'still valid');
  t.match(check.stdout, /portcullis\.yaml:\d+:\d+ trust_forwarded_headers: warning: .*trusted_proxies/);
});
