/**
 * Plug-in authenticators end to end: the example API-key authenticator loaded through the
 * config, tried in order with the JWT authenticator; "not mine" falls through, a wrong key is
 * denied, and the identity it returns reaches the upstream and the route requirements.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
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
