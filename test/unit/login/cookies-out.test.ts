import t from 'tap';
import type { CookieSettings } from '../../../src/config/types.js';
import {
  authCookie,
  clearAuthCookie,
  clearFlowCookie,
  clearRefreshCookie,
  flowCookie,
  flowCookieName,
  refreshCookie,
} from '../../../src/login/cookies-out.js';

const strict: CookieSettings = { name: 'access_token', maxAgeSec: 86_400, secure: true, sameSite: 'Strict', domain: undefined };
const lax: CookieSettings = { name: 'sid', maxAgeSec: 120, secure: false, sameSite: 'Lax', domain: 'example.com' };
const EXPIRED = 'Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';

const rows: ReadonlyArray<readonly [string, string, string]> = [
  ['auth cookie, secure strict, Max-Age from expires_in', authCookie(strict, 'TOK', 300), 'access_token=TOK; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=300'],
  ['auth cookie, Max-Age capped by cookie.max_age', authCookie(lax, 'TOK', 300), 'sid=TOK; HttpOnly; SameSite=Lax; Path=/; Domain=example.com; Max-Age=120'],
  ['refresh cookie is Strict with max_age', refreshCookie(lax, 'SEALED'), 'sid_refresh=SEALED; HttpOnly; SameSite=Strict; Path=/; Domain=example.com; Max-Age=120'],
  ['refresh cookie secure', refreshCookie(strict, 'SEALED'), 'access_token_refresh=SEALED; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=86400'],
  [
    'flow cookie: Lax, callback path, host-only, 10 minutes',
    flowCookie(lax, 'abcdefghijkl', 'SEALED', '/_auth/callback'),
    'portcullis_flow_abcdefgh=SEALED; HttpOnly; SameSite=Lax; Path=/_auth/callback; Max-Age=600',
  ],
  ['flow cookie secure', flowCookie(strict, 'ABCDEFGHxyz', 'S', '/cb'), 'portcullis_flow_ABCDEFGH=S; HttpOnly; Secure; SameSite=Lax; Path=/cb; Max-Age=600'],
  ['clear auth keeps Path and Domain', clearAuthCookie(lax), `sid=; HttpOnly; SameSite=Lax; Path=/; Domain=example.com; ${EXPIRED}`],
  ['clear refresh', clearRefreshCookie(strict), `access_token_refresh=; HttpOnly; Secure; SameSite=Strict; Path=/; ${EXPIRED}`],
  ['clear flow', clearFlowCookie(strict, 'portcullis_flow_x', '/cb'), `portcullis_flow_x=; HttpOnly; Secure; SameSite=Lax; Path=/cb; ${EXPIRED}`],
];

for (const [description, actual, expected] of rows) t.equal(actual, expected, description);
t.equal(flowCookieName('0123456789'), 'portcullis_flow_01234567', 'flow cookie named by the first 8 chars of state');
