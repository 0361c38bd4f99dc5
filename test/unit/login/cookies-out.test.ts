import t from 'tap';
import type { CookieSettings } from '../../../src/config/types.js';
import {
  authCookies,
  clearAuthCookies,
  clearFlowCookie,
  clearRefreshCookie,
  flowCookie,
  flowCookieName,
  refreshCookie,
} from '../../../src/login/cookies-out.js';
import { CHUNK_BYTES, joinChunks, MAX_CHUNKS, splitValue } from '../../../src/http/cookie-chunks.js';

const strict: CookieSettings = { name: 'access_token', maxAgeSec: 86_400, secure: true, sameSite: 'Strict', domain: undefined };
const lax: CookieSettings = { name: 'sid', maxAgeSec: 120, secure: false, sameSite: 'Lax', domain: 'example.com' };
const EXPIRED = 'Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';

const rows: ReadonlyArray<readonly [string, string, string]> = [
  ['auth cookie, secure strict, Max-Age from expires_in', authCookies(strict, 'TOK', 300)?.[0] ?? '', 'access_token=TOK; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=300'],
  ['auth cookie, Max-Age capped by cookie.max_age', authCookies(lax, 'TOK', 300)?.[0] ?? '', 'sid=TOK; HttpOnly; SameSite=Lax; Path=/; Domain=example.com; Max-Age=120'],
  ['refresh cookie is Strict with max_age', refreshCookie(lax, 'SEALED'), 'sid_refresh=SEALED; HttpOnly; SameSite=Strict; Path=/; Domain=example.com; Max-Age=120'],
  ['refresh cookie secure', refreshCookie(strict, 'SEALED'), 'access_token_refresh=SEALED; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=86400'],
  [
    'flow cookie: Lax, callback path, host-only, 10 minutes',
    flowCookie(lax, 'abcdefghijkl', 'SEALED', '/_auth/callback'),
    'portcullis_flow_abcdefgh=SEALED; HttpOnly; SameSite=Lax; Path=/_auth/callback; Max-Age=600',
  ],
  ['flow cookie secure', flowCookie(strict, 'ABCDEFGHxyz', 'S', '/cb'), 'portcullis_flow_ABCDEFGH=S; HttpOnly; Secure; SameSite=Lax; Path=/cb; Max-Age=600'],
  ['clear auth keeps Path and Domain', clearAuthCookies(lax)[0] ?? '', `sid=; HttpOnly; SameSite=Lax; Path=/; Domain=example.com; ${EXPIRED}`],
  ['clear refresh', clearRefreshCookie(strict), `access_token_refresh=; HttpOnly; Secure; SameSite=Strict; Path=/; ${EXPIRED}`],
  ['clear flow', clearFlowCookie(strict, 'portcullis_flow_x', '/cb'), `portcullis_flow_x=; HttpOnly; Secure; SameSite=Lax; Path=/cb; ${EXPIRED}`],
];

for (const [description, actual, expected] of rows) t.equal(actual, expected, description);
t.equal(flowCookieName('0123456789'), 'portcullis_flow_01234567', 'flow cookie named by the first 8 chars of state');

t.test('a long token is written in chunks with the same attributes; every other chunk name is cleared', async (t) => {
  const token = 'a'.repeat(CHUNK_BYTES) + 'b'.repeat(CHUNK_BYTES) + 'c'.repeat(10);
  const cookies = authCookies(lax, token, 300) ?? [];
  t.equal(cookies.length, MAX_CHUNKS, 'three chunks, then the clearing of the other names');
  const attrs = 'HttpOnly; SameSite=Lax; Path=/; Domain=example.com; Max-Age=120';
  t.same(cookies.slice(0, 3), [`sid=${'a'.repeat(CHUNK_BYTES)}; ${attrs}`, `sid_1=${'b'.repeat(CHUNK_BYTES)}; ${attrs}`, `sid_2=${'c'.repeat(10)}; ${attrs}`]);
  t.same(cookies.slice(3), [3, 4, 5, 6, 7].map((i) => `sid_${i}=; HttpOnly; SameSite=Lax; Path=/; Domain=example.com; ${EXPIRED}`));
  for (const c of cookies) t.ok(Buffer.byteLength(c) < 4000, 'each Set-Cookie stays under 4,000 bytes');
  const jar = new Map(cookies.map((c) => c.split(';')[0] ?? '').filter((p) => !p.endsWith('=')).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string]));
  t.equal(joinChunks(jar, 'sid'), token, 'read back joined');
});

t.test('a short token clears every chunk name; logout clears all of them', async (t) => {
  const cookies = authCookies(strict, 'TOK', 300) ?? [];
  t.equal(cookies.length, MAX_CHUNKS);
  t.same(cookies.slice(1).map((c) => c.split('=')[0]), Array.from({ length: MAX_CHUNKS - 1 }, (_, i) => `access_token_${i + 1}`));
  t.same(clearAuthCookies(strict).map((c) => c.split('=')[0]), ['access_token', ...Array.from({ length: MAX_CHUNKS - 1 }, (_, i) => `access_token_${i + 1}`)]);
  t.equal(authCookies(strict, 'x'.repeat(CHUNK_BYTES * MAX_CHUNKS + 1), 300), undefined, 'a token too long even for chunks is refused, not cut');
});

t.test('joinChunks: stops at the first gap; a chunk without the first cookie is nothing', async (t) => {
  t.equal(joinChunks(new Map([['n', 'A'], ['n_1', 'B'], ['n_3', 'D']]), 'n'), 'AB');
  t.equal(joinChunks(new Map([['n_1', 'B']]), 'n'), undefined);
  t.same(splitValue(''), [''], 'an empty value is one empty cookie');
});
