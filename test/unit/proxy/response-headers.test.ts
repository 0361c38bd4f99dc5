import t from 'tap';
import { connectionTokens, isHopByHop } from '../../../src/proxy/hop-by-hop.js';
import { responseHeaders } from '../../../src/proxy/response-headers.js';

/** A raw header list as undici hands it to a dispatch handler: names and values as bytes. */
function raw(...pairs: [string, string][]): Buffer[] {
  return pairs.flatMap(([name, value]) => [Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1')]);
}

void t.test('responseHeaders: names lower-cased, values kept, repeats as a list', (t) => {
  const out = responseHeaders(raw(['Content-Type', 'application/json'], ['Set-Cookie', 'a=1'], ['set-cookie', 'b=2'], ['X-Twice', 'x'], ['x-twice', 'y'], ['x-twice', 'z']));
  t.same({ ...out }, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-twice': ['x', 'y', 'z'] });
  t.end();
});

void t.test('responseHeaders: hop-by-hop fields, the ones Connection names and x-request-id are dropped', (t) => {
  const out = responseHeaders(
    raw(
      ['Connection', 'keep-alive, X-Private'], ['Keep-Alive', 'timeout=5'], ['Transfer-Encoding', 'chunked'], ['Trailer', 'x'],
      ['Upgrade', 'h2c'], ['Proxy-Authenticate', 'Basic'], ['keep_alive', 'timeout=5'], ['x-private', 'secret'], ['X_Private', 'secret'],
      ['Connection', 'x-other'], ['x-other', '1'], ['X-Request-Id', 'upstream-id'], ['content-length', '12'], ['ETag', '"v1"'],
    ),
  );
  t.same({ ...out }, { 'content-length': '12', etag: '"v1"' }, 'only the end-to-end fields survive');
  t.end();
});

void t.test('responseHeaders: latin1 bytes stay bytes, and __proto__ or toString are no special names', (t) => {
  const out = responseHeaders(raw(['X-Name', 'Zo\u00eb'], ['__proto__', 'x'], ['toString', 'y']));
  t.equal(out['x-name'], 'Zo\u00eb');
  t.equal(Object.getPrototypeOf(out), null, 'no prototype');
  t.equal(out.tostring, 'y', 'toString is an ordinary field');
  t.notOk(Object.keys(out).includes('__proto__'), '__proto__ is dropped');
  t.end();
});

void t.test('connectionTokens: fixed hop-by-hop and framing names left out, one list per value', (t) => {
  t.same(connectionTokens(undefined), []);
  t.same(connectionTokens('keep-alive'), [], 'keep-alive is dropped by the fixed set anyway');
  t.same(connectionTokens('Keep-Alive, X_Foo, host, Content-Length, x-foo, close'), ['x-foo', 'close']);
  t.same(connectionTokens(['upgrade', 'X-Bar']), ['x-bar'], 'every copy of the header');
  t.equal(connectionTokens('x-baz, te'), connectionTokens('x-baz, te'), 'the same value gives the same (cached) list');
  t.ok(Object.isFrozen(connectionTokens('x-baz, te')), 'a cached list cannot be changed by a caller');
  t.ok(isHopByHop('te', []) && isHopByHop('x-foo', ['x-foo']) && !isHopByHop('accept', ['x-foo']));
  t.end();
});

void t.test('connectionTokens: ever-new values are answered without growing the cache without bound', (t) => {
  for (let i = 0; i < 2_000; i++) t.same(connectionTokens(`x-n${i}`), [`x-n${i}`]);
  t.end();
});
