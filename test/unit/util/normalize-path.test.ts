import t from 'tap';
import fc from 'fast-check';
import { normalizeTarget } from '../../../src/util/normalize-path.js';

type Row = readonly [description: string, raw: string, expected: { path: string; query: string } | 'refused'];

const rows: readonly Row[] = [
  // plain paths and queries
  ['root stays root', '/', { path: '/', query: '' }],
  ['plain path unchanged', '/api/v1/users', { path: '/api/v1/users', query: '' }],
  ['trailing slash kept', '/api/', { path: '/api/', query: '' }],
  ['query split off and kept', '/a?b=1&c=2', { path: '/a', query: '?b=1&c=2' }],
  ['bare ? kept as empty query', '/a?', { path: '/a', query: '?' }],
  ['query with dot segments kept intact', '/a?x=/../', { path: '/a', query: '?x=/../' }],
  ['query with encoded slash and backslash kept intact', '/a?x=%2F%5C\\', { path: '/a', query: '?x=%2F%5C\\' }],
  ['only the first ? splits', '/a?b?c', { path: '/a', query: '?b?c' }],
  // collapsing and dot segments
  ['double slash collapsed', '//x//y', { path: '/x/y', query: '' }],
  ['slash run collapsed', '/a///b', { path: '/a/b', query: '' }],
  ['trailing double slash becomes one', '/a//', { path: '/a/', query: '' }],
  ['only slashes is root', '////', { path: '/', query: '' }],
  ['single dot segment removed', '/a/./b', { path: '/a/b', query: '' }],
  ['dot-dot pops a segment', '/a/b/../c', { path: '/a/c', query: '' }],
  ['trailing dot-dot leaves a trailing slash', '/a/b/..', { path: '/a/', query: '' }],
  ['trailing dot leaves a trailing slash', '/a/.', { path: '/a/', query: '' }],
  ['dot-dot back to root', '/a/..', { path: '/', query: '' }],
  ['climbing above root refused', '/../x', 'refused'],
  ['climbing above root later refused', '/a/../../x', 'refused'],
  ['climbing after a collapsed slash refused', '/a//../../b', 'refused'],
  ['segment that merely starts with dots kept', '/a/..b/.c', { path: '/a/..b/.c', query: '' }],
  ['triple dot is an ordinary segment', '/a/.../b', { path: '/a/.../b', query: '' }],
  // percent-encoding
  ['encoded dot-dot decoded then removed', '/a/%2e%2e/b', { path: '/b', query: '' }],
  ['upper-case encoded dot decoded', '/a/%2E/b', { path: '/a/b', query: '' }],
  ['mixed-case encoded dot-dot above root refused', '/%2e%2E/x', 'refused'],
  ['half-encoded dot-dot decoded', '/a/.%2e/b', { path: '/b', query: '' }],
  ['unreserved letters and digits decoded', '/%61%62%63%31', { path: '/abc1', query: '' }],
  ['unreserved marks decoded', '/%2D%5F%7E%2e', { path: '/-_~.', query: '' }],
  ['reserved escape kept, hex upper-cased', '/a%3fb%3a', { path: '/a%3Fb%3A', query: '' }],
  ['encoded percent kept, not decoded twice', '/a%252e%252e', { path: '/a%252e%252e', query: '' }],
  ['encoded space kept', '/a%20b', { path: '/a%20b', query: '' }],
  ['encoded UTF-8 kept upper-cased', '/caf%c3%a9', { path: '/caf%C3%A9', query: '' }],
  ['encoded slash refused', '/a%2Fb', 'refused'],
  ['lower-case encoded slash refused', '/%2f', 'refused'],
  ['encoded slash refused even at root', '/%2F', 'refused'],
  ['encoded backslash refused', '/%5C', 'refused'],
  ['lower-case encoded backslash refused', '/a%5cb', 'refused'],
  ['encoded NUL refused', '/a%00', 'refused'],
  ['encoded line feed refused', '/a%0Ab', 'refused'],
  ['encoded DEL refused', '/a%7f', 'refused'],
  ['malformed escape refused', '/a%zz', 'refused'],
  ['half escape refused', '/a%4', 'refused'],
  ['trailing percent refused', '/a%', 'refused'],
  // raw characters
  ['raw backslash refused', '/a\\b', 'refused'],
  ['raw leading backslash refused', '/\\evil', 'refused'],
  ['raw NUL refused', '/a\u0000b', 'refused'],
  ['raw tab refused', '/a\tb', 'refused'],
  ['raw CR in query refused', '/a?b\rc', 'refused'],
  ['raw space refused', '/a b', 'refused'],
  ['raw DEL refused', '/a\u007f', 'refused'],
  ['raw Latin-1 byte encoded', '/caf\u00c3\u00a9', { path: '/caf%C3%A9', query: '' }],
  ['character above U+00FF refused', '/caf\u20ac', 'refused'],
  ['printable ASCII punctuation kept', "/a|{}^`!$&'()*+,=@:", { path: "/a|{}^`!$&'()*+,=@:", query: '' }],
  // fragments and parameters
  ['fragment refused', '/a#b', 'refused'],
  ['fragment inside query refused', '/a?b#c', 'refused'],
  ['dot-dot with semicolon refused', '/a/..;/b', 'refused'],
  ['dot with semicolon refused', '/a/.;/b', 'refused'],
  ['dot-dot with session parameter refused', '/a/..;jsessionid=x/b', 'refused'],
  ['encoded dot-dot with semicolon refused', '/a/%2e%2e;/b', 'refused'],
  ['dot-dot with encoded semicolon refused', '/a/..%3b/b', 'refused'],
  ['path parameter refused (Tomcat strips it: /admin;x/panel is /admin/panel there)', '/a;v=1/b', 'refused'],
  ['encoded path parameter refused', '/a%3bv=1/b', 'refused'],
  ['a ; in the query is not a path parameter', '/a?x=1;y=2', { path: '/a', query: '?x=1;y=2' }],
  ['dot-dot before encoded then raw semicolon refused', '/a/..%3B;x/b', 'refused'],
  // target forms
  ['absolute-form takes the path', 'http://example.com/a/../b?q', { path: '/b', query: '?q' }],
  ['absolute-form https with userinfo takes the path', 'HTTPS://u@example.com:8443/x', { path: '/x', query: '' }],
  ['absolute-form without path is root', 'http://example.com', { path: '/', query: '' }],
  ['absolute-form with only a query', 'http://example.com?q=1', { path: '/', query: '?q=1' }],
  ['asterisk-form refused', '*', 'refused'],
  ['relative path refused', 'a/b', 'refused'],
  ['empty target refused', '', 'refused'],
  ['other scheme refused', 'ftp://example.com/a', 'refused'],
  ['authority-form refused', 'example.com:443', 'refused'],
];

t.test('normalizeTarget table', async (t) => {
  for (const [description, raw, expected] of rows) {
    const result = normalizeTarget(raw);
    if (expected === 'refused') t.same(result, { ok: false }, description);
    else t.same(result, { ok: true, ...expected }, description);
  }
});

t.test('normalizeTarget properties', async (t) => {
  const pathChars = fc.constantFrom(
    '/', '/', '.', '..', '%2e', '%2E', '%2f', '%5c', '%00', '%41', '%3b', '%zz', '%', ';', '\\',
    '?', '#', 'a', 'B', '0', '~', '-', '_', ' ', '\t', '\u00e9', '\u20ac', '%c3%a9', '//',
  );
  const targets = fc.oneof(
    fc.array(pathChars, { maxLength: 24 }).map((parts) => `/${parts.join('')}`),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.webPath(),
  );
  fc.assert(
    fc.property(targets, (raw) => {
      const first = normalizeTarget(raw);
      if (!first.ok) return;
      const { path } = first;
      if (!path.startsWith('/')) throw new Error(`output ${JSON.stringify(path)} is not absolute`);
      for (const bad of ['//', '/./', '/../', '\\', '\u0000']) {
        if (path.includes(bad)) throw new Error(`output ${JSON.stringify(path)} contains ${JSON.stringify(bad)}`);
      }
      if (/%2f/i.test(path)) throw new Error(`output ${JSON.stringify(path)} contains an encoded slash`);
      if (/\/\.\.?$/.test(path)) throw new Error(`output ${JSON.stringify(path)} ends in a dot segment`);
      const second = normalizeTarget(path);
      if (!second.ok || second.path !== path || second.query !== '') {
        throw new Error(`not idempotent for ${JSON.stringify(raw)}: ${JSON.stringify(second)}`);
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('never throws, idempotent, no forbidden sequences');
});
