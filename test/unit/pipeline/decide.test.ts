import t from 'tap';
import type { AuthMode, RouteConfig, RouteRequire } from '../../../src/config/types.js';
import type { JwtOutcome } from '../../../src/authn/jwt.js';
import type { AuthRequest, Authenticator } from '../../../src/authn/types.js';
import { AuthError } from '../../../src/authn/types.js';
import type { Identity } from '../../../src/identity/types.js';
import type { ChainEntry, PipelineContext } from '../../../src/pipeline/context.js';
import { decide, decideForRoute } from '../../../src/pipeline/decide.js';
import { compileRoutes } from '../../../src/pipeline/match-route.js';

const ada: Identity = { user: 'ada', groups: [], roles: ['reader'], issuer: 'https://idp.example.com', claims: { sub: 'ada', jti: 'j1' } };

function route(name: string, path: string, auth: AuthMode, require?: Partial<RouteRequire>): RouteConfig {
  return {
    name,
    match: { host: undefined, path, methods: undefined },
    upstream: 'http://127.0.0.1:1',
    auth,
    require: require === undefined ? undefined : { roles: [], groups: [], scopes: [], claims: {}, ...require },
    forwardToken: false,
    stripPrefix: false,
    timeoutMs: 1000,
  };
}

const routes = [
  route('public', '/public', 'public'),
  route('api', '/api', 'required'),
  route('admin', '/admin', 'required', { roles: ['admin'] }),
  route('maybe', '/maybe', 'optional'),
];

/** A JWT entry that answers by token: 'good' verifies, 'old' is expired, anything else is malformed. */
function jwtEntry(seen: (string | undefined)[] = []): ChainEntry {
  return {
    kind: 'jwt',
    jwt: {
      async authenticate(token): Promise<JwtOutcome> {
        seen.push(token);
        if (token === undefined) return { kind: 'none' };
        if (token === 'good') return { kind: 'identity', identity: ada, fingerprint: 'f-good', cached: true, issuerName: 'idp' };
        if (token === 'old') return { kind: 'denied', reason: 'expired', fingerprint: 'f-old', detail: 'exp is past' };
        return { kind: 'denied', reason: 'malformed', fingerprint: 'f-bad' };
      },
    },
  };
}

function plugin(name: string, authenticate: (req: AuthRequest) => Promise<Identity | null>): ChainEntry {
  const authenticator: Authenticator = { name, authenticate };
  return { kind: 'plugin', authenticator };
}

function context(chain: readonly ChainEntry[], tokens: PipelineContext['tokens'] = { header: true, cookie: 'access_token', query: false }): PipelineContext {
  return { routes: compileRoutes(routes), chain, tokens };
}

function request(path: string, headers: Record<string, string> = {}): AuthRequest {
  return { method: 'GET', host: 'app.example.com', path, query: '', headers, clientIp: '10.0.0.1', requestId: 'r1' };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

t.test('a path no route matches is not_found, before any credential is read', async (t) => {
  const seen: (string | undefined)[] = [];
  t.same(await decide(request('/nowhere', bearer('good')), context([jwtEntry(seen)])), { outcome: 'denied', route: undefined, reason: 'not_found' });
  t.same(seen, [], 'no authenticator ran');
});

t.test('a public route is public without reading a credential, even a broken one', async (t) => {
  const seen: (string | undefined)[] = [];
  const decision = await decide(request('/public', { authorization: 'Basic eDp5' }), context([jwtEntry(seen)]));
  t.equal(decision.outcome, 'public');
  t.equal(decision.route?.name, 'public');
  t.same(seen, []);
});

t.test('a verified token on a required route is allowed, with its token facts', async (t) => {
  const decision = await decide(request('/api', bearer('good')), context([jwtEntry()]));
  t.same(decision, {
    outcome: 'allowed',
    route: routes[1],
    identity: ada,
    token: { fingerprint: 'f-good', subject: 'ada', jti: 'j1', issuer: 'https://idp.example.com', cached: true },
  });
});

t.test('the token may come from the configured cookie', async (t) => {
  const decision = await decide(request('/api', { cookie: 'x=1; access_token=good' }), context([jwtEntry()]));
  t.equal(decision.outcome, 'allowed');
});

t.test('a token the verifier refuses is denied with its reason, detail and fingerprint', async (t) => {
  const decision = await decide(request('/api', bearer('old')), context([jwtEntry()]));
  t.same(decision, { outcome: 'denied', route: routes[1], reason: 'expired', detail: 'exp is past', token: { fingerprint: 'f-old' } });
  const malformed = await decide(request('/api', bearer('junk')), context([jwtEntry()]));
  t.same(malformed, { outcome: 'denied', route: routes[1], reason: 'malformed', token: { fingerprint: 'f-bad' } });
});

t.test('no credential on a required route is missing_token', async (t) => {
  t.same(await decide(request('/api'), context([jwtEntry()])), { outcome: 'denied', route: routes[1], reason: 'missing_token' });
});

t.test('a broken Authorization header is bad_scheme when nobody authenticates', async (t) => {
  const decision = await decide(request('/api', { authorization: 'Basic eDp5', cookie: 'access_token=good' }), context([jwtEntry()]));
  t.same(decision, { outcome: 'denied', route: routes[1], reason: 'bad_scheme' });
});

t.test('an identity that lacks a required role is insufficient_scope, with identity and token', async (t) => {
  const decision = await decide(request('/admin', bearer('good')), context([jwtEntry()]));
  t.equal(decision.outcome, 'denied');
  if (decision.outcome !== 'denied') return;
  t.equal(decision.reason, 'insufficient_scope');
  t.equal(decision.identity, ada);
  t.equal(decision.token?.subject, 'ada');
  t.equal(decision.detail, 'missing role');
});

t.test('optional route: no credential is anonymous, a bad one is denied', async (t) => {
  t.same(await decide(request('/maybe'), context([jwtEntry()])), { outcome: 'allowed', route: routes[3], identity: undefined });
  const bad = await decide(request('/maybe', bearer('old')), context([jwtEntry()]));
  t.equal(bad.outcome, 'denied');
  t.equal(bad.outcome === 'denied' ? bad.reason : '', 'expired', 'a presented credential that fails is never let through');
  const scheme = await decide(request('/maybe', { authorization: 'Bearer' }), context([jwtEntry()]));
  t.equal(scheme.outcome === 'denied' ? scheme.reason : '', 'bad_scheme', 'a broken header is not anonymous');
  const good = await decide(request('/maybe', bearer('good')), context([jwtEntry()]));
  t.equal(good.outcome === 'allowed' ? good.identity : undefined, ada, 'a good token is used');
});

t.test('plug-ins: not-mine tries the next, the first identity wins, a later entry never runs', async (t) => {
  const calls: string[] = [];
  const notMine = plugin('a', async () => (calls.push('a'), null));
  const mine = plugin('b', async () => (calls.push('b'), { ...ada, user: 'bob' }));
  const never = plugin('c', async () => (calls.push('c'), ada));
  const decision = await decide(request('/api'), context([notMine, mine, never]));
  t.equal(decision.outcome, 'allowed');
  t.equal(decision.outcome === 'allowed' ? decision.identity?.user : '', 'bob');
  t.notOk('token' in decision, 'a plug-in identity carries no token facts');
  t.same(calls, ['a', 'b']);
  const nobody = await decide(request('/api'), context([notMine]));
  t.same(nobody, { outcome: 'denied', route: routes[1], reason: 'missing_token' }, 'all not-mine: missing_token');
});

t.test('the JWT entry saying "none" lets a later plug-in answer', async (t) => {
  const seen: (string | undefined)[] = [];
  const decision = await decide(request('/api', { 'x-api-key': 'k' }), context([jwtEntry(seen), plugin('keys', async () => ada)]));
  t.equal(decision.outcome, 'allowed');
  t.same(seen, [undefined], 'the JWT entry was asked with no token');
});

t.test('a plug-in error becomes a denial by its code', async (t) => {
  const rows: ReadonlyArray<readonly [string, unknown, string, string]> = [
    ['a reason code is used as is', new AuthError('forbidden_source', 'no'), 'forbidden_source', 'keys: plug-in denied'],
    ['a system error is the backend failing', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'auth_unavailable', 'keys: plug-in backend failed'],
    ['an undici error is the backend failing', Object.assign(new Error('t'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), 'auth_unavailable', 'keys: plug-in backend failed'],
    ['another code is invalid_credentials', new AuthError('bad_key'), 'invalid_credentials', 'keys: plug-in denied'],
    ['no code is an internal error', new TypeError('bug'), 'internal_error', 'keys: plug-in failed'],
    ['a thrown non-error is an internal error', 'oops', 'internal_error', 'keys: plug-in failed'],
  ];
  for (const [desc, thrown, reason, detail] of rows) {
    const failing = plugin('keys', async () => {
      throw thrown;
    });
    t.same(await decide(request('/api'), context([failing])), { outcome: 'denied', route: routes[1], reason, detail }, desc);
  }
});

t.test('decideForRoute judges a fixed route without matching', async (t) => {
  const fixed = route('userinfo', '/_auth/userinfo', 'required');
  const decision = await decideForRoute(request('/elsewhere', bearer('good')), context([jwtEntry()]), fixed);
  t.equal(decision.outcome, 'allowed');
  t.equal(decision.route, fixed);
});

t.test('token settings decide where a credential may come from', async (t) => {
  const noCookie = context([jwtEntry()], { header: true, cookie: false, query: false });
  t.equal((await decide(request('/api', { cookie: 'access_token=good' }), noCookie)).outcome, 'denied', 'cookie off: not read');
  const query = context([jwtEntry()], { header: false, cookie: false, query: true });
  const decision = await decide({ ...request('/api'), query: '?access_token=good' }, query);
  t.equal(decision.outcome, 'allowed', 'query on: read');
});
