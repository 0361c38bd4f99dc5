/**
 * The scenarios of issues 7 and 15, each a set of processes to start and one request shape to
 * drive, with its references (measured in the same run) and targets. `own` processes are the
 * subject (the sidecar, a reference server or a peer); the upstream and, in the auth_request
 * chain, nginx count in the total only. A scenario that cannot run here says why instead of a
 * number. The references are minimal Node servers (bare, jose + a Map LRU, undici
 * `Pool.stream`); the peers are nginx, Apache mod_auth_openidc, oauth2-proxy and Oathkeeper.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './proc.js';
import { startApache } from './apache.js';
import { startNginx } from './nginx.js';
import { installPeer, startOathkeeper, startOauth2Proxy } from './peers.js';
import { startRefAuth, startRefProxy, startSidecar, startStatic } from './servers.js';

/** Headers a Traefik/Envoy front proxy sends to the forward-auth endpoint. */
const FORWARDED = {
  'x-forwarded-method': 'GET',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'app.example.com',
  'x-forwarded-uri': '/app/orders?id=1',
};

/** The bench config: one issuer (this run's JWKS), a public and a protected route. */
export function sidecarYaml(ctx, { upstream, cache = 10_000, workers } = {}) {
  const to = upstream === undefined ? '' : `\n    upstream: ${upstream}`;
  return `mode: ${upstream === undefined ? 'forward_auth' : 'proxy'}
listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
issuers:
  - name: bench
    issuer: ${ctx.jwks.url}
    jwks_uri: ${ctx.jwks.jwksUri}
    audiences: [api]
cache:
  verified_tokens: ${cache}
routes:
  - name: public
    match: { path: /public }
    auth: public${to}
  - name: app
    match: { path: / }${to}
${workers === undefined ? '' : `workers: ${workers}\n`}${process.env.BENCH_EXTRA_YAML ?? ''}`;
}

/** Whether `pid` has `workers` descendants within 3 s (cluster workers start after the primary). */
async function forked(pid, workers) {
  for (let i = 0; i < 30; i += 1) {
    if (processTree(pid).length > workers) return true;
    await sleep(100);
  }
  return false;
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });

/**
 * A forward-auth scenario on a fresh sidecar; `tokens` is one token (fixed) or a file set, and
 * names the set the run must mint for it (`tokenSet`).
 */
function forwardAuth(id, label, refs, { tokens, cache, expect = 200, workers, prefill = false }) {
  return {
    id,
    label,
    refs,
    tokenSet: tokens === 'one' ? undefined : tokens,
    async start(ctx) {
      const sidecar = await startSidecar({ cpus: ctx.cpus, yaml: sidecarYaml(ctx, { cache, workers }), dir: ctx.dir, name: `portcullis-${id}`, nodeArgs: ctx.nodeArgsFor(id) });
      if (workers !== undefined && !(await forked(sidecar.pid, workers))) {
        await sidecar.stop();
        return { unavailable: `serve accepted workers: ${workers} but forked no worker processes` };
      }
      const set = ctx.tokenSet(tokens);
      return {
        target: {
          url: `${sidecar.url}/_auth/verify`,
          headers: set.file === undefined ? { ...FORWARDED, ...bearer(set.first) } : FORWARDED,
          tokenFile: set.file,
          firstToken: set.first,
          expect,
          processes: [{ name: 'portcullis', pid: sidecar.pid, own: true }],
          adminUrl: sidecar.adminUrl,
          jwksHits: () => ctx.jwks.hits.jwks,
          prefill,
        },
        stop: () => sidecar.stop(),
      };
    },
  };
}

/** The sidecar as reverse proxy in front of the shared upstream. */
function proxy(id, label, refs, path, withToken) {
  return {
    id,
    label,
    refs,
    async start(ctx) {
      const sidecar = await startSidecar({ cpus: ctx.cpus, yaml: sidecarYaml(ctx, { upstream: ctx.upstream.url }), dir: ctx.dir, name: `portcullis-${id}`, nodeArgs: ctx.nodeArgsFor(id) });
      return {
        target: {
          url: `${sidecar.url}${path}`,
          headers: withToken ? bearer(ctx.tokens.valid[0]) : {},
          expect: 200,
          processes: [
            { name: 'portcullis', pid: sidecar.pid, own: true },
            { name: 'upstream', pid: ctx.upstream.pid, own: false },
          ],
          adminUrl: sidecar.adminUrl,
        },
        stop: () => sidecar.stop(),
      };
    },
  };
}

const own = (id, target) => ({ id, basis: 'own', target });

/** The peer binary of `name` (built once per run, on first use) or why there is none. */
function peer(ctx, name) {
  ctx.peers[name] ??= installPeer(name);
  return ctx.peers[name];
}

/** The world of a run as a peer sees it: upstream, issuer, JWKS and audience. */
const world = (ctx) => ({ cpus: ctx.cpus, upstream: ctx.upstream.url, issuer: ctx.jwks.url, jwksUri: ctx.jwks.jwksUri, audience: 'api' });

/** A scenario whose subject is one server in front of the shared upstream, with the valid token. */
function fronted(id, label, refs, { path = '/app/data', expect = 200, headers = {}, start }) {
  return {
    id,
    label,
    refs,
    async start(ctx) {
      const server = await start(ctx);
      if (server.unavailable !== undefined) return server;
      return {
        target: {
          url: `${server.url}${path}`,
          headers: { ...headers, ...bearer(ctx.tokens.valid[0]) },
          expect,
          processes: [
            { name: server.name, pid: server.pid, own: true },
            { name: 'upstream', pid: ctx.upstream.pid, own: false },
          ],
        },
        stop: () => server.stop(),
      };
    },
  };
}

/** oauth2-proxy started from its cached build, or why it cannot be. */
async function oauth2Proxy(ctx) {
  const built = peer(ctx, 'oauth2-proxy');
  return built.binary === undefined ? built : startOauth2Proxy({ binary: built.binary, ...world(ctx) });
}

export const SCENARIOS = [
  {
    id: '1',
    label: 'bare Node http 200',
    refs: [],
    async start(ctx) {
      const server = await startStatic(ctx.cpus, 'node-bare');
      return {
        target: { url: `${server.url}/`, headers: {}, expect: 200, processes: [{ name: 'node-bare', pid: server.pid, own: true }] },
        stop: () => server.stop(),
      };
    },
  },
  {
    id: '1b',
    label: 'minimal Node auth: jose jwtVerify + Map LRU, one token',
    refs: [own('1', undefined)],
    async start(ctx) {
      const server = await startRefAuth(ctx.cpus, { jwks: { keys: [ctx.key.jwk] }, issuer: ctx.jwks.url, audience: 'api' });
      return {
        target: { url: `${server.url}/_auth/verify`, headers: { ...FORWARDED, ...bearer(ctx.tokens.valid[0]) }, expect: 200, processes: [{ name: 'node-auth', pid: server.pid, own: true }] },
        stop: () => server.stop(),
      };
    },
  },
  {
    id: '1d',
    label: 'minimal Node auth: jose jwtVerify + Map LRU, 50k distinct tokens',
    refs: [],
    tokenSet: 'valid',
    async start(ctx) {
      const server = await startRefAuth(ctx.cpus, { jwks: { keys: [ctx.key.jwk] }, issuer: ctx.jwks.url, audience: 'api' });
      const set = ctx.tokenSet('valid');
      return {
        target: { url: `${server.url}/_auth/verify`, headers: FORWARDED, tokenFile: set.file, firstToken: set.first, expect: 200, processes: [{ name: 'node-auth', pid: server.pid, own: true }] },
        stop: () => server.stop(),
      };
    },
  },
  fronted('1c', 'minimal Node proxy: undici Pool.stream, no auth', [], { start: (ctx) => startRefProxy(ctx.cpus, ctx.upstream.url) }),
  forwardAuth('2', 'forward-auth, one token (cache hit)', [own('1b', 1.3), own('9a', 1), own('1', undefined)], { tokens: 'one' }),
  forwardAuth('3', '50k distinct tokens, cache 5000 (LRU never hits)', [own('2', 2.5), own('1d', undefined)], { tokens: 'valid', cache: 5000 }),
  proxy('4a', 'proxy, route auth: public', [], '/public/data', false),
  proxy('4b', 'proxy, valid token (cache hit)', [own('1c', 1.2), own('4a', 1.1), own('4d', 0.7), own('9b', 1), own('4c', undefined), own('9c', undefined)], '/app/data', true),
  fronted('4c', 'nginx proxy_pass', [], {
    start: (ctx) =>
      ctx.nginxBinary === undefined
        ? { unavailable: 'nginx not found (apt-get install -y nginx)' }
        : startNginx({ binary: ctx.nginxBinary, dir: join(ctx.dir, 'nginx-4c'), cpus: ctx.cpus, kind: 'proxy_pass', upstream: new URL(ctx.upstream.url).host }),
  }),
  fronted('4d', 'Apache mod_auth_openidc (PEM key)', [], {
    start: (ctx) =>
      ctx.apacheUnavailable !== undefined
        ? { unavailable: ctx.apacheUnavailable }
        : startApache({ dir: join(ctx.dir, 'apache-4d'), cpus: ctx.cpus, upstream: ctx.upstream.url, publicPem: ctx.key.publicPem, kid: ctx.key.kid, connections: ctx.connections }),
  }),
  {
    id: '5',
    label: 'nginx auth_request -> portcullis -> upstream',
    refs: [{ id: '4c', basis: 'total', target: undefined }],
    async start(ctx) {
      if (ctx.nginxBinary === undefined) return { unavailable: 'nginx not found (apt-get install -y nginx)' };
      const sidecar = await startSidecar({ cpus: ctx.cpus, yaml: sidecarYaml(ctx), dir: ctx.dir, name: 'portcullis-5', nodeArgs: ctx.nodeArgsFor('5') });
      const nginx = await startNginx({
        binary: ctx.nginxBinary,
        dir: join(ctx.dir, 'nginx-5'),
        cpus: ctx.cpus,
        kind: 'auth_request',
        sidecar: sidecar.ready.listen,
        upstream: new URL(ctx.upstream.url).host,
      }).catch(async (err) => {
        await sidecar.stop();
        throw err;
      });
      return {
        target: {
          url: `${nginx.url}/app/data`,
          headers: bearer(ctx.tokens.valid[0]),
          expect: 200,
          processes: [
            { name: 'portcullis', pid: sidecar.pid, own: true },
            { name: 'nginx', pid: nginx.pid, own: false },
            { name: 'upstream', pid: ctx.upstream.pid, own: false },
          ],
          adminUrl: sidecar.adminUrl,
        },
        stop: async () => {
          await nginx.stop();
          await sidecar.stop();
        },
      };
    },
  },
  forwardAuth('6a', 'invalid: 10k distinct forged signatures', [own('3', 1)], { tokens: 'forged', expect: 401 }),
  forwardAuth('6b', 'invalid: 1k distinct expired (signed)', [own('3', 1)], { tokens: 'expired', expect: 401 }),
  forwardAuth('6c', 'invalid: 10k distinct unknown kids', [own('3', 1)], { tokens: 'unknownKid', expect: 401 }),
  forwardAuth('7', '50k distinct valid tokens, cache 10000 (after one pass)', [own('3', undefined)], { tokens: 'valid', prefill: true }),
  forwardAuth('8', 'forward-auth cache hit, workers: 2', [own('2', 1.1)], { tokens: 'one', workers: 2 }),
  fronted('9a', 'oauth2-proxy /oauth2/auth, one token', [own('1b', undefined)], { path: '/oauth2/auth', expect: 202, headers: FORWARDED, start: oauth2Proxy }),
  fronted('9b', 'oauth2-proxy proxy, one token', [own('1c', undefined)], { start: oauth2Proxy }),
  fronted('9c', 'Oathkeeper proxy (jwt authenticator), one token', [own('1c', undefined)], {
    async start(ctx) {
      const built = peer(ctx, 'oathkeeper');
      return built.binary === undefined ? built : startOathkeeper({ binary: built.binary, dir: join(ctx.dir, 'oathkeeper'), ...world(ctx) });
    },
  }),
];

/** Peak RSS target of scenario 7 (issue 15: under 150 MB after 50,000 distinct tokens). */
export const RSS_TARGET_MB = { 7: 150 };
