/**
 * The failed-login limit with the real CLI, `workers: 2`, behind a trusted proxy (the client
 * address comes from X-Forwarded-For): failures count per username and per client address
 * separately, and once for the whole `serve`, not per worker.
 */
import t from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';

const h = await harness(t, {
  routes: `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`,
  extra: (idp) => `workers: 2
trusted_proxies: [127.0.0.1]
login:
  client_id: ${idp.clientId}
  client_secret: ${idp.clientSecret}
  issuer: idp
  password: {}
  rate_limit: { attempts: 3, per: 1m }
`,
  readyTimeoutMs: 60_000,
});

/** A password login from `from` (the address the trusted proxy reports), on a new connection. */
async function login(username: string, password: string, from: string): Promise<number> {
  const res = await http(`${h.sidecar.url}/_auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ username, password }),
  });
  return res.status;
}

t.test('a username is refused from every address once it failed too often', async (t) => {
  for (const from of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) t.equal(await login('alice', 'wrong-password', from), 401);
  t.equal(await login('alice', 'alice-password', '198.51.100.9'), 429, 'right password, fresh address: still refused');
  t.equal(await login('bob', 'bob-password', '198.51.100.9'), 200, 'another user from that address is not refused');
});

t.test('an address is refused for every username once it failed too often', async (t) => {
  for (const user of ['nobody-1', 'nobody-2', 'nobody-3']) t.equal(await login(user, 'guess', '203.0.113.7'), 401);
  t.equal(await login('bob', 'bob-password', '203.0.113.7'), 429, 'right password, other user: refused from that address');
  t.equal(await login('admin', 'admin-password', '203.0.113.8'), 200, 'another address, another user: never refused');
  const [line] = await h.sidecar.waitForAudit((l) => l.event === 'login' && l.reason === 'rate_limited' && l.client_ip === '203.0.113.7');
  t.ok(line, 'the audit names the real client address');
});

t.test('one count for all workers: no worker grants a fresh budget', async (t) => {
  for (let i = 0; i < 3; i++) t.equal(await login('carol', 'guess', `192.0.2.${i + 1}`), 401);
  // Every login is a new connection; node:cluster hands them to the workers in turn.
  const after = await Promise.all(Array.from({ length: 6 }, (_, i) => login('carol', 'guess', `192.0.2.${i + 10}`)));
  t.same(after, Array(6).fill(429), 'refused by every worker');
});
