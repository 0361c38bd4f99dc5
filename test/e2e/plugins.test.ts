/**
 * Plug-in authenticators end to end: the example API-key authenticator loaded through the
 * config, tried in order with the JWT authenticator; "not mine" falls through, a wrong key is
 * denied, and the identity it returns reaches the upstream and the route requirements.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed } from '../support/http.js';

const KEY = 'k-1234567890-abcdef';
const PLUGIN = resolve(import.meta.dirname, '../../examples/plugins/api-keys.js');

const h = await harness(t, {
  routes: `
  - name: deploy
    match: { path: /deploy }
    upstream: {{UPSTREAM}}
    require: { roles: [deployer] }
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`,
  extra: `authenticators:
  - type: module
    path: ${PLUGIN}
    options:
      header: x-api-key
      keys:
        ${createHash('sha256').update(KEY).digest('hex')}:
          user: ci-bot
          roles: [deployer]
  - type: jwt
`,
});

t.test('a known API key authenticates, and its roles satisfy require', async (t) => {
  const res = await http(`${h.sidecar.url}/deploy/now`, { headers: { 'x-api-key': KEY } });
  t.equal(res.status, 200);
  const seen = res.json<Echoed>();
  t.equal(seen.headers['x-auth-request-user'], 'ci-bot');
  t.equal(seen.headers['x-auth-request-roles'], 'deployer');
});

t.test('an unknown API key is denied by the plug-in (not passed on to the JWT authenticator)', async (t) => {
  const alice = await h.login('alice');
  const res = await http(`${h.sidecar.url}/app`, { headers: { 'x-api-key': 'wrong', authorization: `Bearer ${alice}` } });
  t.equal(res.status, 401);
  t.equal(res.json().error, 'invalid_token');
  t.equal(h.upstream.requests().filter((r) => r.url === '/app').length, 0);
});

t.test('without the header the plug-in says "not mine" and the JWT authenticator answers', async (t) => {
  const alice = await h.login('alice');
  t.equal((await http(`${h.sidecar.url}/app`, { headers: { authorization: `Bearer ${alice}` } })).status, 200);
  t.equal((await http(`${h.sidecar.url}/app`)).status, 401);
  t.equal((await http(`${h.sidecar.url}/deploy`, { headers: { authorization: `Bearer ${alice}` } })).status, 403);
});

t.test('the plug-in logged through its context, without the key', async (t) => {
  const line = await h.sidecar.waitForLog('api-keys loaded');
  t.notOk(line.includes(KEY));
});

t.test('a plug-in that crashes fails closed: 500 internal_error, logged, process still up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-crash-'));
  const crashing = join(dir, 'crash.mjs');
  writeFileSync(crashing, 'export default () => ({ name: "crashy", authenticate: async () => { throw new TypeError("boom"); } });\n');
  const denying = join(dir, 'deny.mjs');
  writeFileSync(denying, 'export default () => ({ name: "denier", authenticate: async (r) => { if (r.headers["x-deny"]) throw Object.assign(new Error("no"), { code: "insufficient_scope" }); return null; } });\n');
  const h2 = await harness(t, {
    routes: `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`,
    extra: `authenticators:\n  - type: module\n    path: ${denying}\n  - type: module\n    path: ${crashing}\n  - type: jwt\n`,
  });
  const denied = await http(`${h2.sidecar.url}/x`, { headers: { 'x-deny': '1' } });
  t.equal(denied.status, 403, 'a plug-in error with a reason code denies with that reason');
  t.equal(denied.json().error, 'insufficient_scope');
  const crashed = await http(`${h2.sidecar.url}/x`);
  t.equal(crashed.status, 500);
  t.equal(crashed.json().error, 'internal_error');
  t.match(await h2.sidecar.waitForLog('"msg":"authenticator failed"'), /crashy/);
  t.equal(h2.upstream.requests().length, 0);
  t.equal((await http(`${h2.sidecar.adminUrl}/healthz`)).status, 200);
});
