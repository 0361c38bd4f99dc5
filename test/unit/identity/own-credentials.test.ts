import t from 'tap';
import { isOwnCookie, withoutOwnCookies, withoutQueryToken } from '../../../src/identity/own-credentials.js';

t.test('own cookies', async (t) => {
  for (const name of ['session', 'session_1', 'session_9', 'session_42', 'session_refresh', 'portcullis_flow_abcd1234']) {
    t.ok(isOwnCookie(name, 'session'), name);
  }
  for (const name of ['sessions', 'session_', 'session_0', 'session_01', 'session_x', 'Session', 'other']) {
    t.notOk(isOwnCookie(name, 'session'), name);
  }
  t.ok(isOwnCookie('portcullis_flow_x', false), 'flow cookies go even without an auth cookie');
  t.notOk(isOwnCookie('access_token', false));
  t.equal(withoutOwnCookies('a=1; session=t; session_1=u; b=2; session_refresh=r', 'session'), 'a=1; b=2');
  t.equal(withoutOwnCookies('session=t;session_2=x', 'session'), undefined);
});

t.test('query token removal', async (t) => {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ['', ''],
    ['?a=1', '?a=1'],
    ['?access_token=x', ''],
    ['?a=1&access_token=x&b=%20', '?a=1&b=%20'],
    ['?access%5Ftoken=x&b', '?b'],
    ['?access_token=x&access_token=y', ''],
    ['?my_access_token=x', '?my_access_token=x'],
    ['?ACCESS_TOKEN=x', '?ACCESS_TOKEN=x'],
  ];
  for (const [query, out] of rows) t.equal(withoutQueryToken(query), out, query || '(none)');
});
