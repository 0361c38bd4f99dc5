/**
 * HTTP framing attacks on raw sockets (docs/security.md "Headers and paths" and "Leaks and limits"):
 * CL+TE and TE.TE smuggling, duplicate Content-Length, obs-fold, a client `Trailer` carrying an
 * identity header, `Expect`, h2c (upgrade and prior knowledge), HTTP/1.0 without Host, request
 * line junk and 100 KiB of headers (431). Each row: the statuses answered, that no smuggled
 * request and no spoofed identity reached the upstream, and that the process stays up.
 */
import t from 'tap';
import { harness, standardRoutes } from '../support/harness.js';
import { assertStillUp, rawExchange, statuses } from './support.js';

const h = await harness(t, { routes: standardRoutes() });
const token = await h.login('alice');
const H = 'Host: app.example\r\n';
const smuggled = `GET /smuggled HTTP/1.1\r\n${H}\r\n`;

// [name, bytes, statuses the client may see, upstream path that must never be requested]
type Row = [string, string, number[][]];
const rows: Row[] = [
  ['CL+TE: chunked terminator hides a second request', `POST /public HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, [[400]]],
  ['TE+CL in the other order', `POST /public HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n${smuggled}`, [[400]]],
  ['TE.TE: obfuscated second Transfer-Encoding', `POST /public HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n${smuggled}`, [[400]]],
  ['Transfer-Encoding: xchunked', `POST /public HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`, [[400], [501]]],
  ['Transfer-Encoding with a leading space in the name', `POST /public HTTP/1.1\r\n${H} Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, [[400]]],
  ['Transfer-Encoding: chunked, identity', `POST /public HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`, [[400], [501]]],
  ['duplicate Content-Length with different values', `POST /public HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 44\r\n\r\n${smuggled}`, [[400]]],
  ['Content-Length list', `POST /public HTTP/1.1\r\n${H}Content-Length: 0, 44\r\n\r\n${smuggled}`, [[400]]],
  ['negative Content-Length', `POST /public HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n${smuggled}`, [[400]]],
  ['chunk size with junk', `POST /public HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n${smuggled}`, [[400]]],
  ['obs-fold continuing the Authorization header', `GET /x HTTP/1.1\r\n${H}Authorization: Bearer ${token.slice(0, 30)}\r\n ${token.slice(30)}\r\n\r\n`, [[400], [401]]],
  ['obs-fold smuggling an identity header name', `GET /x HTTP/1.1\r\n${H}X-Ignore: a\r\n X-Auth-Request-User: admin\r\n\r\n`, [[400], [401]]],
  ['space before the colon of an identity header', `GET /public HTTP/1.1\r\n${H}X-Auth-Request-User : admin\r\n\r\n`, [[400]]],
  ['NUL inside a header value', `GET /public HTTP/1.1\r\n${H}X-Test: a\0b\r\n\r\n`, [[400]]],
  ['bare LF line endings', `GET /x HTTP/1.1\n${H.replace('\r\n', '\n')}X-Auth-Request-User: admin\n\n`, [[400], [401]]],
  ['Expect with an unknown expectation', `POST /x HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 2\r\n\r\nhi`, [[417], [401]]],
  ['Expect: 100-continue without a token', `POST /x HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n`, [[401], [100, 401]]],
  ['h2c upgrade in upper case', `GET /x HTTP/1.1\r\n${H}Authorization: Bearer ${token}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: H2C\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`, [[400]]],
  ['h2c upgrade on a public route', `GET /public HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`, [[400]]],
  ['HTTP/2 prior-knowledge preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [[400], [505], []]],
  ['HTTP/1.0 without Host, no token', 'GET /x HTTP/1.0\r\n\r\n', [[401]]],
  ['HTTP/1.1 without Host', 'GET /public HTTP/1.1\r\n\r\n', [[400], [200]]],
  ['extra token in the request line', `GET /public HTTP/1.1 junk\r\n${H}\r\n`, [[400]]],
  ['tab in the request target', `GET /public/\t/../x HTTP/1.1\r\n${H}\r\n`, [[400]]],
  ['two spaces in the request line (lenient parse of a public path)', `GET  /public HTTP/1.1\r\n${H}\r\n`, [[400], [200]]],
  ['lower-case method', `get /public HTTP/1.1\r\n${H}\r\n`, [[400]]],
  ['unknown HTTP version', `GET /public HTTP/1.7\r\n${H}\r\n`, [[400], [505]]],
  ['binary garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', [[400], []]],
  ['100 KiB of headers', `GET /public HTTP/1.1\r\n${H}X-Big: ${'b'.repeat(100 * 1024)}\r\n\r\n`, [[431]]],
  ['pipelined: a public request then an unauthenticated one', `GET /public HTTP/1.1\r\n${H}\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`, [[200, 401]]],
];

t.beforeEach(() => h.upstream.reset());

for (const [name, bytes, allowed] of rows) {
  t.test(name, async (t) => {
    const raw = await rawExchange(h.sidecar.url, Buffer.from(bytes, 'latin1'), 800);
    const got = statuses(raw);
    t.ok(allowed.some((a) => JSON.stringify(a) === JSON.stringify(got)), `answered ${JSON.stringify(got)}, allowed ${JSON.stringify(allowed)}`);
    const seen = h.upstream.requests();
    t.notOk(seen.some((r) => r.url.startsWith('/smuggled')), 'no smuggled request reached the upstream');
    t.notOk(seen.some((r) => JSON.stringify(r.headers).includes('admin')), 'no spoofed identity reached the upstream');
    t.notOk(seen.some((r) => r.url === '/x'), 'no unauthenticated request reached a protected route');
  });
}

t.test('a client Trailer with an identity header in the trailer section never reaches the upstream', async (t) => {
  const body = `POST /x HTTP/1.1\r\n${H}Authorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\nTrailer: X-Auth-Request-User\r\n\r\n4\r\nbody\r\n0\r\nX-Auth-Request-User: admin\r\n\r\n`;
  const raw = await rawExchange(h.sidecar.url, body, 800);
  t.same(statuses(raw), [200]);
  const seen = h.upstream.requests();
  t.equal(seen.length, 1);
  t.equal(seen[0]?.body, 'body');
  t.not(seen[0]?.headers['x-auth-request-user'], 'admin');
  t.equal(seen[0]?.headers.trailer, undefined);
});

t.test('the process is still up after the table', (t) => assertStillUp(t, h));
