/**
 * Hostile upgrades (docs/decisions.md "WebSocket upgrades pass through the same decision"; docs/security.md
 * "Leaks and limits"): a WebSocket handshake with a bad token, a cookie-authenticated handshake
 * from a foreign or opaque Origin, an upgrade on a public route (allowed, with client identity
 * headers stripped), and non-WebSocket protocols. Raw sockets: the answer is read off the wire.
 */
import t from 'tap';
import { harness, standardRoutes } from '../support/harness.js';
import { assertStillUp, rawError, rawExchange, statuses } from './support.js';

const h = await harness(t, { routes: standardRoutes() });
const token = await h.login('alice');
const expired = await h.mintToken({ exp: Math.floor(Date.now() / 1000) - 3600 });
const origin = h.sidecar.url;

function handshake(path: string, headers: Record<string, string>, upgrade = 'websocket'): string {
  const lines = [`GET ${path} HTTP/1.1`, 'Host: app.example', 'Connection: Upgrade', `Upgrade: ${upgrade}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

type Row = [string, string, number, string | undefined];
const rows: Row[] = [
  ['no token', handshake('/ws', {}), 401, 'unauthorized'],
  ['expired bearer token', handshake('/ws', { Authorization: `Bearer ${expired}` }), 401, 'invalid_token'],
  ['Basic credentials', handshake('/ws', { Authorization: 'Basic YTpi' }), 401, 'invalid_request'],
  ['token in a query parameter (query tokens off)', handshake(`/ws?access_token=${token}`, {}), 401, 'unauthorized'],
  ['spoofed identity headers only', handshake('/ws', { 'X-Auth-Request-User': 'admin', 'Remote-User': 'admin' }), 401, 'unauthorized'],
  ['auth cookie from a foreign Origin', handshake('/ws', { Cookie: `access_token=${token}`, Origin: 'https://evil.example' }), 403, 'forbidden'],
  ['auth cookie with Origin null', handshake('/ws', { Cookie: `access_token=${token}`, Origin: 'null' }), 403, 'forbidden'],
  ['auth cookie from a look-alike Origin', handshake('/ws', { Cookie: `access_token=${token}`, Origin: 'http://app.example.evil.example' }), 403, 'forbidden'],
  ['auth cookie from the same host on another scheme-less Origin', handshake('/ws', { Cookie: `access_token=${token}`, Origin: 'app.example' }), 403, 'forbidden'],
  ['non-WebSocket protocol with a valid token', handshake('/ws', { Authorization: `Bearer ${token}` }, 'foo/1'), 400, 'invalid_request'],
  ['h2c with a valid token', handshake('/ws', { Authorization: `Bearer ${token}` }, 'h2c'), 400, 'invalid_request'],
  ['websocket listed with another protocol', handshake('/ws', { Authorization: `Bearer ${token}` }, 'websocket, h2c'), 400, 'invalid_request'],
  ['non-WebSocket protocol on a public route', handshake('/public/ws', {}, 'tls/1.2'), 400, 'invalid_request'],
];

t.beforeEach(() => h.upstream.reset());

for (const [name, bytes, status, error] of rows) {
  t.test(`upgrade: ${name} → ${status}`, async (t) => {
    const raw = await rawExchange(h.sidecar.url, bytes, 800);
    t.same(statuses(raw), [status]);
    t.equal(rawError(raw), error);
    t.equal(h.upstream.requests().length, 0, 'no byte reached the upstream');
  });
}

t.test('upgrade on a public route is proxied without identity, spoofed headers stripped', async (t) => {
  const raw = await rawExchange(h.sidecar.url, handshake('/public/ws', { 'X-Auth-Request-User': 'admin', X_Auth_Request_Roles: 'admin' }), 500);
  t.same(statuses(raw), [101]);
  const seen = h.upstream.requests();
  t.equal(seen.length, 1);
  t.notOk(JSON.stringify(seen[0]?.headers).includes('admin'));
});

t.test('control: the auth cookie from the same origin upgrades', async (t) => {
  const raw = await rawExchange(h.sidecar.url, handshake('/ws', { Cookie: `access_token=${token}`, Origin: origin }).replace('Host: app.example', `Host: ${new URL(origin).host}`), 500);
  t.same(statuses(raw), [101]);
});

t.test('the process is still up after the table', (t) => assertStillUp(t, h));
