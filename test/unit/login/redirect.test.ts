import t from 'tap';
import fc from 'fast-check';
import { safeRedirect } from '../../../src/login/redirect.js';
import { hostMatches } from '../../../src/pipeline/match-route.js';

const opts = {
  publicUrl: 'https://app.example.com',
  allowedHosts: [
    'other.example.org',
    '.tenants.example.net',
    '*.wild.example.com',
    'ported.example.org:8443',
    '[::1]:9000',
    'app.example.com:9443',
  ],
};

type Row = readonly [description: string, rd: string | undefined, expected: string | undefined];

const accepted: readonly Row[] = [
  ['plain path', '/dashboard', '/dashboard'],
  ['root path', '/', '/'],
  ['path with query and fragment returned as given', '/a/b?x=1&next=//evil#top', '/a/b?x=1&next=//evil#top'],
  ['path with an encoded space', '/a%20b', '/a%20b'],
  ['path with a query holding dot segments', '/a?p=/../x', '/a?p=/../x'],
  ['public_url host', 'https://app.example.com/x?y=1', 'https://app.example.com/x?y=1'],
  ['public_url host with explicit default port', 'https://app.example.com:443/x', 'https://app.example.com/x'],
  ['public_url host in upper case normalised', 'HTTPS://APP.Example.COM/x', 'https://app.example.com/x'],
  ['public_url host without path', 'https://app.example.com', 'https://app.example.com/'],
  ['public_url host on a port the allow-list names', 'https://app.example.com:9443/x', 'https://app.example.com:9443/x'],
  ['allow-listed exact host over http', 'http://other.example.org/a', 'http://other.example.org/a'],
  ['allow-listed dot entry allows a subdomain', 'https://t1.tenants.example.net/', 'https://t1.tenants.example.net/'],
  ['allow-listed wildcard allows a deeper subdomain', 'https://a.b.wild.example.com/', 'https://a.b.wild.example.com/'],
  ['allow-listed host:port on that port', 'https://ported.example.org:8443/', 'https://ported.example.org:8443/'],
  ['allow-listed IPv6 with port', 'http://[::1]:9000/cb', 'http://[::1]:9000/cb'],
];

const refused: readonly Row[] = [
  ['missing', undefined, undefined],
  ['empty', '', undefined],
  ['overlong path', `/${'a'.repeat(2048)}`, undefined],
  ['scheme-relative', '//evil.com', undefined],
  ['scheme-relative with many slashes', '////evil.com/', undefined],
  ['slash backslash', '/\\evil.com', undefined],
  ['double backslash', '\\\\evil.com', undefined],
  ['backslash deeper in the path', '/a\\b', undefined],
  ['encoded slash after the first', '/%2F/evil.com', undefined],
  ['encoded double slash', '/%2f%2fevil.com', undefined],
  ['double-encoded slash', '/%252F/evil.com', undefined],
  ['encoding nested too deep', '/%25252525252F', undefined],
  ['encoded backslash', '/%5Cevil.com', undefined],
  ['slash tab slash', '/\t/evil.com', undefined],
  ['slash CR slash', '/\r/evil.com', undefined],
  ['slash LF backslash', '/\n\\evil.com', undefined],
  ['slash vertical tab slash', '/\v/evil.com', undefined],
  ['slash space slash', '/ /evil.com', undefined],
  ['encoded tab between slashes', '/%09/evil.com', undefined],
  ['encoded CR LF anywhere', '/a%0d%0aSet-Cookie:x', undefined],
  ['encoded space between slashes', '/%20/evil.com', undefined],
  ['leading space', ' /dashboard', undefined],
  ['leading space before absolute URL', ' https://app.example.com/', undefined],
  ['no-break space', '/a\u00a0b', undefined],
  ['C1 control', '/a\u0085b', undefined],
  ['raw non-ASCII path', '/caf\u00e9', undefined],
  ['raw ideographic full stop in the host', 'https://evil\u3002com/', undefined],
  ['dot segment to a scheme-relative path', '/./\\evil.com', undefined],
  ['dot-dot segments', '/a/../../evil.com', undefined],
  ['encoded dot segment', '/%2e%2e//evil.com', undefined],
  ['trailing dot segment', '/a/..', undefined],
  ['userinfo naming the app', 'https://app.example.com@evil.com/', undefined],
  ['backslash userinfo trick', 'https://evil.com\\@app.example.com/', undefined],
  ['userinfo on an allowed host', 'https://user:pw@app.example.com/', undefined],
  ['empty userinfo', 'https://@app.example.com/', undefined],
  ['javascript scheme', 'javascript:alert(1)', undefined],
  ['encoded javascript scheme', '%6Aavascript:alert(1)', undefined],
  ['data scheme', 'data:text/html;base64,PHNjcmlwdD4=', undefined],
  ['ftp scheme', 'ftp://app.example.com/', undefined],
  ['http without slashes', 'http:app.example.com', undefined],
  ['http with one slash', 'https:/app.example.com', undefined],
  ['missing scheme', 'app.example.com/x', undefined],
  ['foreign host', 'https://evil.com/', undefined],
  ['allowed name as a prefix', 'https://app.example.com.evil.com/', undefined],
  ['allowed name glued to a foreign one', 'https://evilapp.example.com/', undefined],
  ['query parameter naming an allowed host', 'https://evil.com/?rd=app.example.com', undefined],
  ['fragment hiding the real host', 'https://evil.com#@app.example.com/', undefined],
  ['encoded dot in the host', 'https://app.example.com%2eevil.com/', undefined],
  ['fullwidth dot folding into a foreign host', 'https://evil%E3%80%82com/', undefined],
  ['numeric IP encoding', 'http://0xd83ad6ce/', undefined],
  ['public_url host on another port', 'https://app.example.com:8443/', undefined],
  ['public_url host over plain http', 'http://app.example.com/', undefined],
  ['exact entry refuses a subdomain', 'https://x.other.example.org/', undefined],
  ['exact entry refuses a non-default port', 'https://other.example.org:8443/', undefined],
  ['dot entry refuses the apex', 'https://tenants.example.net/', undefined],
  ['wildcard entry refuses the apex', 'https://wild.example.com/', undefined],
  ['wildcard entry refuses a glued name (CVE-2021-21291)', 'https://evilwild.example.com/', undefined],
  ['host:port entry refuses the default port', 'https://ported.example.org/', undefined],
  ['host:port entry refuses another port', 'https://ported.example.org:9443/', undefined],
  ['invalid port', 'https://app.example.com:99999/', undefined],
  ['unparseable authority', 'https://app.example.com:80%40evil.com/', undefined],
];

t.test('safeRedirect accepts same-site paths and allowed hosts', async (t) => {
  for (const [description, rd, expected] of accepted) t.equal(safeRedirect(rd, opts), expected, description);
});

t.test('safeRedirect refuses hostile targets', async (t) => {
  for (const [description, rd, expected] of refused) t.equal(safeRedirect(rd, opts), expected, description);
});

t.test('without public_url only paths and the allow-list remain', async (t) => {
  const bare = { publicUrl: undefined, allowedHosts: ['other.example.org'] };
  t.equal(safeRedirect('/x', bare), '/x', 'path accepted');
  t.equal(safeRedirect('https://app.example.com/', bare), undefined, 'former public host refused');
  t.equal(safeRedirect('https://other.example.org/', bare), 'https://other.example.org/', 'allow-listed host accepted');
  const local = { publicUrl: 'http://localhost:8080/base', allowedHosts: [] };
  t.equal(safeRedirect('http://localhost:8080/x', local), 'http://localhost:8080/x', 'public_url with port accepted');
  t.equal(safeRedirect('http://localhost/x', local), undefined, 'public_url host on the default port refused');
});

t.test('any accepted target stays on an allowed origin', async (t) => {
  const origin = 'https://app.example.com';
  const pieces = fc.constantFrom(
    '/', '//', '\\', '%2f', '%5c', '%09', '%2e', '.', '..', '@', ':', '#', '?', ' ', '\t',
    'evil.com', 'app.example.com', 'x.wild.example.com', 'ported.example.org', ':8443', ':443',
    'https:', 'http:', 'javascript:', '%40', '%25', '[::1]', ':9000', '\u3002',
  );
  const candidates = fc.oneof(
    fc.array(pieces, { maxLength: 10 }).map((parts) => parts.join('')),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  const allowed = (host: string, port: string): boolean =>
    (host === 'app.example.com' && (port === '' || port === '9443')) ||
    (host === 'other.example.org' && port === '') ||
    ((hostMatches('*.tenants.example.net', host) || hostMatches('*.wild.example.com', host)) && port === '') ||
    (host === 'ported.example.org' && port === '8443') ||
    (host === '[::1]' && port === '9000');
  fc.assert(
    fc.property(candidates, (rd) => {
      const target = safeRedirect(rd, opts);
      if (target === undefined) return;
      const resolved = new URL(target, origin);
      if (target.startsWith('/')) {
        if (resolved.origin !== origin) throw new Error(`path ${JSON.stringify(rd)} leaves the origin`);
      } else if (!allowed(resolved.hostname, resolved.port) || resolved.username !== '') {
        throw new Error(`absolute ${JSON.stringify(rd)} reaches ${resolved.host}`);
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('every accepted rd resolves to public_url or an allow-listed host');
});
