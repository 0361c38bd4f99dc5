import t from 'tap';
import fc from 'fast-check';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Identity } from '../../../src/identity/types.js';
import { normalizeHeaderName } from '../../../src/proxy/hop-by-hop.js';
import {
  IDENTITY_HEADERS,
  buildUpstreamHeaders,
  compileHeaderPolicy,
  identityHeaders,
  upstreamIdentityHeaders,
  type UpstreamHeaderOptions,
} from '../../../src/proxy/upstream-headers.js';

const ada: Identity = {
  user: 'u1',
  email: 'ada@example.com',
  username: 'ada',
  groups: ['/acme/data', 'admins'],
  roles: ['analyst', 'reader'],
  claims: { sub: 'u1' },
  token: 'aaa.bbb.ccc',
};

const defaults: UpstreamHeaderOptions = {
  policy: compileHeaderPolicy({ cookieName: 'access_token', stripHeaders: ['remote-user', 'x-forwarded-user', 'X_Remote_Email'] }),
  trustForwarded: false,
  identity: undefined,
  forwardToken: false,
  clientIp: '10.0.0.7',
  proto: 'https',
  host: 'app.example.com',
  requestId: 'req-1',
  upgrade: false,
};

interface Row {
  desc: string;
  headers: IncomingHttpHeaders;
  opts?: Partial<UpstreamHeaderOptions>;
  /** Exact values the output must hold. */
  want?: OutgoingHttpHeaders;
  /** Names that must be absent. */
  absent?: string[];
}

const rows: Row[] = [
  // hop-by-hop
  {
    desc: 'hop-by-hop headers are dropped',
    headers: {
      connection: 'keep-alive', 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers',
      trailer: 'x-checksum', upgrade: 'websocket', 'proxy-authenticate': 'Basic', 'proxy-authorization': 'Basic eA==',
      'http2-settings': 'AAMAAABkAAQAAP__', accept: 'text/plain',
    },
    want: { accept: 'text/plain' },
    absent: ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'http2-settings'],
  },
  { desc: 'Trailer alone is dropped (node-http-proxy#1647)', headers: { trailer: 'Expires' }, absent: ['trailer'] },
  { desc: 'Expect is dropped (node-http-proxy#1219)', headers: { expect: '100-continue' }, absent: ['expect'] },
  {
    desc: 'headers named in Connection are dropped, case and underscore insensitive',
    headers: { connection: 'close, X-Custom,  x_other ', 'x-custom': '1', 'x-other': '2', 'x-kept': '3' },
    want: { 'x-kept': '3' },
    absent: ['x-custom', 'x-other', 'connection'],
  },
  {
    desc: 'Connection cannot remove host or content-length',
    headers: { connection: 'host, content-length', host: 'app.example.com', 'content-length': '4' },
    want: { host: 'app.example.com', 'content-length': '4' },
  },
  {
    desc: 'Connection naming x-forwarded-for cannot remove the value portcullis sets',
    headers: { connection: 'x-forwarded-for, x-request-id' },
    want: { 'x-forwarded-for': '10.0.0.7', 'x-request-id': 'req-1' },
  },
  {
    desc: 'a chunked body is re-framed as chunked, dropping content-length',
    headers: { 'transfer-encoding': 'gzip, chunked', 'content-length': '10' },
    want: { 'transfer-encoding': 'chunked' },
    absent: ['content-length'],
  },
  { desc: 'no transfer-encoding is added for a plain body', headers: { 'content-length': '3' }, want: { 'content-length': '3' }, absent: ['transfer-encoding'] },
  // upgrade
  {
    desc: 'websocket upgrade re-sets connection and upgrade',
    headers: { connection: 'Upgrade', upgrade: 'WebSocket', 'sec-websocket-key': 'k' },
    opts: { upgrade: true },
    want: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' },
  },
  { desc: 'h2c upgrade is not re-set', headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c' }, opts: { upgrade: true }, absent: ['connection', 'upgrade'] },
  { desc: 'upgrade header without an upgrade request is dropped', headers: { connection: 'Upgrade', upgrade: 'websocket' }, absent: ['connection', 'upgrade'] },
  // identity headers from the client
  {
    desc: 'client x-auth-request-* in every spelling is dropped',
    headers: {
      'x-auth-request-user': 'admin', X_Auth_Request_User: 'admin', 'x_auth-request_email': 'a@evil',
      'X-AUTH-REQUEST-GROUPS': 'admins', 'x-auth-request-access-token': 't', 'x-auth-request-anything': '1',
    },
    absent: ['x-auth-request-user', 'x_auth_request_user', 'x_auth-request_email', 'x-auth-request-groups', 'x-auth-request-access-token', 'x-auth-request-anything'],
  },
  {
    desc: 'configured strip headers go in any spelling',
    headers: { 'remote-user': 'root', remote_user: 'root', 'x-forwarded-user': 'root', 'x-remote-email': 'a@evil', 'remote-group': 'kept' },
    want: { 'remote-group': 'kept' },
    absent: ['remote-user', 'remote_user', 'x-forwarded-user', 'x-remote-email'],
  },
  {
    desc: 'other underscore headers pass through',
    headers: { x_custom_header: 'v', 'x_forwarded_for_real': 'no' },
    want: { x_custom_header: 'v' },
    absent: ['x_forwarded_for_real'],
  },
  // forwarded
  {
    desc: 'client x-forwarded-* and friends are replaced without trust',
    headers: {
      'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.com', 'x-forwarded-port': '1',
      'x-forwarded-uri': '/admin', x_forwarded_host: 'evil.com', forwarded: 'for=1.2.3.4', 'x-real-ip': '1.2.3.4',
    },
    want: { 'x-forwarded-for': '10.0.0.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com' },
    absent: ['x-forwarded-port', 'x-forwarded-uri', 'x_forwarded_host', 'forwarded', 'x-real-ip'],
  },
  {
    desc: 'with trust, X-Forwarded-For is appended and proto/host are kept',
    headers: { 'x-forwarded-for': '1.2.3.4, 5.6.7.8', 'x-forwarded-proto': 'HTTP', 'x-forwarded-host': 'public.example.com, inner', 'x-forwarded-port': '1', forwarded: 'for=x' },
    opts: { trustForwarded: true },
    want: { 'x-forwarded-for': '1.2.3.4, 5.6.7.8, 10.0.0.7', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'public.example.com' },
    absent: ['x-forwarded-port', 'forwarded'],
  },
  {
    desc: 'with trust, missing client values fall back to the connection',
    headers: {},
    opts: { trustForwarded: true, proto: 'http' },
    want: { 'x-forwarded-for': '10.0.0.7', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'app.example.com' },
  },
  {
    desc: 'with trust, a bogus client proto is replaced',
    headers: { 'x-forwarded-proto': 'javascript', 'x-forwarded-for': '  ' },
    opts: { trustForwarded: true },
    want: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.0.0.7' },
  },
  {
    desc: 'array-valued and undefined headers from a hand-built map are handled',
    headers: { 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'], 'x-empty': undefined, 'x-list': ['a', 'b'] },
    opts: { trustForwarded: true },
    want: { 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 10.0.0.7', 'x-list': ['a', 'b'] },
    absent: ['x-empty'],
  },
  { desc: 'no host, no x-forwarded-host', headers: {}, opts: { host: undefined }, absent: ['x-forwarded-host'] },
  // steering and request id
  {
    desc: 'routing and method override headers are dropped',
    headers: {
      'x-original-uri': '/admin', 'x-original-url': '/admin', 'x-original-method': 'DELETE', 'x-rewrite-url': '/admin',
      'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE', X_Original_URI: '/admin',
    },
    absent: ['x-original-uri', 'x-original-url', 'x-original-method', 'x-rewrite-url', 'x-http-method-override', 'x-http-method', 'x-method-override', 'x_original_uri'],
  },
  { desc: 'client x-request-id is replaced', headers: { 'x-request-id': 'evil', x_request_id: 'evil' }, want: { 'x-request-id': 'req-1' }, absent: ['x_request_id'] },
  // credentials
  {
    desc: 'authorization and the auth cookie are removed without forward_token',
    headers: { authorization: 'Bearer aaa.bbb.ccc', cookie: 'theme=dark; access_token=aaa.bbb.ccc; lang=en' },
    opts: { identity: ada },
    want: { cookie: 'theme=dark; lang=en' },
    absent: ['authorization'],
  },
  {
    desc: 'cookie header goes when only the auth cookie was in it',
    headers: { cookie: 'access_token=x;  access_token =y;' },
    absent: ['cookie'],
  },
  { desc: 'cookie names are exact', headers: { cookie: 'access_token_x=a; Access_Token=b; access_token_0=c' }, want: { cookie: 'access_token_x=a; Access_Token=b; access_token_0=c' } },
  {
    desc: 'every portcullis cookie goes: chunks, refresh, login flow',
    headers: { cookie: 'access_token_1=a; theme=dark; access_token_refresh=r; portcullis_flow_abcd1234=f; access_token_12=b' },
    want: { cookie: 'theme=dark' },
  },
  { desc: 'other cookies survive, spaced auth cookie goes', headers: { cookie: 'flag; x=1;access_token = v' }, want: { cookie: 'flag; x=1' } },
  { desc: 'cookie removal off when tokens.cookie is false', headers: { cookie: 'access_token=x' }, opts: { policy: compileHeaderPolicy({ cookieName: false, stripHeaders: [] }) }, want: { cookie: 'access_token=x' } },
  {
    desc: 'forward_token sends only the verified token; a forged auth cookie beside it is dropped',
    headers: { authorization: 'Bearer client-value', cookie: 'theme=dark; access_token=forged.none.x' },
    opts: { identity: ada, forwardToken: true },
    want: { authorization: 'Bearer aaa.bbb.ccc', cookie: 'theme=dark' },
  },
  {
    desc: 'forward_token without a verified identity passes no authorization at all',
    headers: { authorization: 'Bearer client-value' },
    opts: { forwardToken: true },
    want: { authorization: undefined },
  },
  // identity headers set
  {
    desc: 'identity headers are set and override client copies',
    headers: { 'x-auth-request-user': 'admin', 'x-auth-request-roles': 'admin' },
    opts: { identity: ada },
    want: {
      'x-auth-request-user': 'u1', 'x-auth-request-email': 'ada@example.com', 'x-auth-request-preferred-username': 'ada',
      'x-auth-request-groups': '/acme/data,admins', 'x-auth-request-roles': 'analyst,reader',
    },
    absent: ['x-auth-request-access-token'],
  },
  {
    desc: 'header injection in identity values is refused',
    headers: {},
    opts: {
      identity: {
        ...ada, user: 'u1\r\nx-auth-request-roles: admin', email: 'a@b\nSet-Cookie: x=1', username: 'ada\u0000',
        groups: ['ok', 'bad\rgroup', 'a,admin'], roles: ['r\n', 'admin\u007f', 'fine'],
      },
    },
    want: { 'x-auth-request-groups': 'ok', 'x-auth-request-roles': 'fine' },
    absent: ['x-auth-request-user', 'x-auth-request-email', 'x-auth-request-preferred-username', 'set-cookie'],
  },
  {
    desc: 'non-latin1 identity values are sent as UTF-8 bytes',
    headers: {},
    opts: { identity: { ...ada, username: 'Zoë 李', groups: ['Ωmega'] } },
    want: {
      'x-auth-request-preferred-username': Buffer.from('Zoë 李', 'utf8').toString('latin1'),
      'x-auth-request-groups': Buffer.from('Ωmega', 'utf8').toString('latin1'),
    },
  },
];

void t.test('buildUpstreamHeaders', (t) => {
  for (const row of rows) {
    const incoming = structuredClone(row.headers);
    const out = buildUpstreamHeaders(incoming, { ...defaults, ...row.opts });
    t.same(incoming, row.headers, `${row.desc}: incoming is not mutated`);
    for (const [name, value] of Object.entries(row.want ?? {})) t.same(out[name], value, `${row.desc}: ${name}`);
    for (const name of row.absent ?? []) t.notOk(name in out, `${row.desc}: no ${name}`);
  }
  t.end();
});

void t.test('buildUpstreamHeaders always sets x-forwarded-* and x-request-id', (t) => {
  const out = buildUpstreamHeaders({ host: 'app.example.com' }, defaults);
  t.same({ ...out }, {
    host: 'app.example.com', 'x-forwarded-for': '10.0.0.7', 'x-forwarded-proto': 'https',
    'x-forwarded-host': 'app.example.com', 'x-request-id': 'req-1',
  }, 'exact header set for a bare request');
  t.end();
});

void t.test('a client __proto__ header cannot change the output prototype', (t) => {
  const incoming = JSON.parse('{"__proto__": {"x-auth-request-user": "admin"}, "accept": "*/*"}') as IncomingHttpHeaders;
  const out = buildUpstreamHeaders(incoming, defaults);
  t.equal(out['x-auth-request-user'], undefined, 'no inherited identity header');
  t.equal(Object.getPrototypeOf(out), null, 'output has no prototype');
  t.end();
});

void t.test('identityHeaders', (t) => {
  t.same(identityHeaders(ada, { forwardToken: true, tokenHeader: 'x-auth-request-access-token' })[IDENTITY_HEADERS.accessToken], 'aaa.bbb.ccc', 'forward-auth carries the token in its own header');
  t.notOk('authorization' in identityHeaders(ada, { forwardToken: true, tokenHeader: 'x-auth-request-access-token' }), 'forward-auth sets no authorization');
  t.notOk(IDENTITY_HEADERS.accessToken in identityHeaders(ada, { forwardToken: false, tokenHeader: 'x-auth-request-access-token' }), 'no token without forward_token');
  t.notOk('authorization' in identityHeaders({ ...ada, token: 'a\r\nb' }, { forwardToken: true, tokenHeader: 'authorization' }), 'unsafe token is not sent');
  t.same(identityHeaders({ user: 'u', groups: [], roles: [], claims: {} }, { forwardToken: true, tokenHeader: 'authorization' }), { [IDENTITY_HEADERS.user]: 'u' }, 'empty lists and missing fields are left out');
  t.end();
});

void t.test('upstreamIdentityHeaders: the block identityHeaders builds, once per identity object', (t) => {
  for (const forwardToken of [false, true]) {
    const block = upstreamIdentityHeaders(ada, forwardToken);
    t.same({ ...block }, identityHeaders(ada, { forwardToken, tokenHeader: 'authorization' }), `forwardToken ${forwardToken}: same headers`);
    t.equal(upstreamIdentityHeaders(ada, forwardToken), block, `forwardToken ${forwardToken}: reused for the same identity`);
    t.ok(Object.isFrozen(block), 'a shared block cannot be changed by a request');
  }
  t.not(upstreamIdentityHeaders(ada, true), upstreamIdentityHeaders(ada, false), 'with and without the token are different blocks');
  t.equal(upstreamIdentityHeaders(ada, true).authorization, 'Bearer aaa.bbb.ccc');
  t.equal(upstreamIdentityHeaders({ ...ada }, false)[IDENTITY_HEADERS.user], 'u1', 'another identity object gets its own block');
  const out = buildUpstreamHeaders({ 'x-auth-request-user': 'mallory' }, { ...defaults, identity: ada, forwardToken: true });
  out[IDENTITY_HEADERS.user] = 'changed';
  t.equal(upstreamIdentityHeaders(ada, true)[IDENTITY_HEADERS.user], 'u1', 'the request gets a copy: changing it leaves the block alone');
  t.end();
});

void t.test('normalizeHeaderName', (t) => {
  t.equal(normalizeHeaderName('X_Auth_Request_User'), 'x-auth-request-user', 'underscore and case');
  t.equal(normalizeHeaderName('Remote-User'), 'remote-user', 'case only');
  t.end();
});

const namePart = fc.constantFrom('x', 'auth', 'request', 'user', 'email', 'groups', 'forwarded', 'remote', 'a');
const headerName = fc
  .tuple(fc.array(fc.tuple(namePart, fc.constantFrom('-', '_')), { maxLength: 4 }), namePart, fc.boolean())
  .map(([parts, last, upper]) => {
    const name = parts.map(([p, sep]) => p + sep).join('') + last;
    return upper ? name.toUpperCase() : name;
  });
const identityArb = fc.option(
  fc.record({
    user: fc.string(),
    groups: fc.array(fc.string(), { maxLength: 3 }),
    roles: fc.array(fc.string(), { maxLength: 3 }),
    claims: fc.constant({}),
    token: fc.option(fc.string(), { nil: undefined }),
  }),
  { nil: undefined },
);

void t.test('property: x-auth-request-* in the output come only from the identity', (t) => {
  fc.assert(
    fc.property(
      fc.dictionary(headerName, fc.string()),
      identityArb,
      fc.boolean(),
      fc.boolean(),
      (incoming, identity, forwardToken, trustForwarded) => {
        const out = buildUpstreamHeaders(incoming, { ...defaults, identity, forwardToken, trustForwarded });
        const own = identity === undefined ? {} : identityHeaders(identity, { forwardToken, tokenHeader: 'authorization' });
        for (const [name, value] of Object.entries(out)) {
          if (!normalizeHeaderName(name).startsWith('x-auth-request-')) continue;
          if (own[name] !== value) return false;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass('no client x-auth-request-* header survived');
  t.end();
});
