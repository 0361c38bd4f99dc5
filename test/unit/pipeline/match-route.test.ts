import t from 'tap';
import type { RouteConfig } from '../../../src/config/types.js';
import { compileRoutes, hostMatches } from '../../../src/pipeline/match-route.js';

function route(name: string, path: string, host?: string, methods?: readonly string[]): RouteConfig {
  // compileRoutes takes compiled config: paths already normalised, no trailing slash.
  return {
    name,
    match: { host, path, methods },
    upstream: 'http://127.0.0.1:1',
    auth: 'required',
    require: undefined,
    forwardToken: false,
    stripPrefix: false,
    timeoutMs: 1000,
  };
}

const hostRows: ReadonlyArray<readonly [string, string, string, boolean]> = [
  ['exact host matches itself', 'app.example.com', 'app.example.com', true],
  ['exact host ignores case', 'app.example.com', 'APP.Example.COM', true],
  ['exact host ignores the port', 'app.example.com', 'app.example.com:8443', true],
  ['exact host ignores one trailing dot', 'app.example.com', 'app.example.com.', true],
  ['exact host refuses two trailing dots', 'app.example.com', 'app.example.com..', false],
  ['exact host refuses a subdomain', 'app.example.com', 'x.app.example.com', false],
  ['exact host refuses a longer name', 'app.example.com', 'app.example.com.evil.org', false],
  ['exact host refuses a prefix-sharing name', 'app.example.com', 'app.example.co', false],
  ['exact IPv6 host with port', '[::1]', '[::1]:8080', true],
  ['exact IPv6 host without port', '[::1]', '[::1]', true],
  ['other IPv6 host refused', '[::1]', '[::2]:8080', false],
  ['unterminated IPv6 literal refused', '[::1]', '[::1', false],
  ['exact pattern with upper case and trailing dot', 'App.Example.com.', 'app.example.com', true],
  ['wildcard matches one label', '*.example.com', 'a.example.com', true],
  ['wildcard matches several labels', '*.example.com', 'a.b.example.com', true],
  ['wildcard matches with port and case', '*.example.com', 'A.Example.com:443', true],
  ['wildcard matches with trailing dot', '*.example.com', 'a.example.com.', true],
  ['wildcard refuses the apex', '*.example.com', 'example.com', false],
  ['wildcard refuses a glued name (CVE-2021-21291)', '*.example.com', 'evilexample.com', false],
  ['wildcard refuses an empty label', '*.example.com', '.example.com', false],
  ['wildcard refuses an empty inner label', '*.example.com', 'a..example.com', false],
  ['wildcard refuses the suffix elsewhere', '*.example.com', 'a.example.com.evil.org', false],
  ['wildcard refuses a domain ending alike', '*.example.com', 'example.com.evil.org', false],
  ['wildcard refuses characters outside DNS labels', '*.example.com', 'evil.org/.example.com', false],
  ['wildcard refuses userinfo-like hosts', '*.example.com', 'evil.org@a.example.com', false],
  ['wildcard pattern with trailing dot', '*.example.com.', 'a.example.com', true],
];

t.test('hostMatches table', async (t) => {
  for (const [description, pattern, host, expected] of hostRows) {
    t.equal(hostMatches(pattern, host), expected, description);
  }
});

const routes = [
  route('root', '/'),
  route('api', '/api'),
  route('api-v1', '/api/v1'),
  route('api-v1-second', '/api/v1'),
  route('public', '/public'),
  route('admin-host', '/admin', 'admin.example.com'),
  route('admin-any', '/admin'),
  route('tenant', '/tenant', '*.example.com'),
  route('tenant-deep-any-host', '/tenant/data'),
  route('writes', '/write', undefined, ['POST', 'PUT']),
  route('reads', '/write', undefined, ['GET']),
  route('trailing-slash-config', '/docs/'),
];
const matcher = compileRoutes(routes);

const matchRows: ReadonlyArray<readonly [string, string | undefined, string, string, string | undefined]> = [
  ['root route catches unknown paths', 'x.org', '/nothing/here', 'GET', 'root'],
  ['root route catches the root', 'x.org', '/', 'GET', 'root'],
  ['prefix matches itself', 'x.org', '/public', 'GET', 'public'],
  ['prefix matches with trailing slash', 'x.org', '/public/', 'GET', 'public'],
  ['prefix matches below', 'x.org', '/public/x/y', 'GET', 'public'],
  ['prefix does not match a longer segment', 'x.org', '/publicity', 'GET', 'root'],
  ['longest prefix wins', 'x.org', '/api/v1/users', 'GET', 'api-v1'],
  ['shorter prefix when the longer does not fit', 'x.org', '/api/v2', 'GET', 'api'],
  ['segment boundary before longest prefix', 'x.org', '/api/v10', 'GET', 'api'],
  ['tie goes to the first declared', 'x.org', '/api/v1', 'GET', 'api-v1'],
  ['host route wins on its host', 'admin.example.com', '/admin/x', 'GET', 'admin-host'],
  ['host route matched with port and case', 'ADMIN.example.com:8443', '/admin', 'GET', 'admin-host'],
  ['other host falls to the hostless route', 'www.example.com', '/admin', 'GET', 'admin-any'],
  ['missing host falls to the hostless route', undefined, '/admin', 'GET', 'admin-any'],
  ['wildcard host route on a subdomain', 'acme.example.com', '/tenant', 'GET', 'tenant'],
  ['wildcard host route not on the apex', 'example.com', '/tenant', 'GET', 'root'],
  ['a host route beats a longer hostless path', 'acme.example.com', '/tenant/data/1', 'GET', 'tenant'],
  ['the longer hostless path on another host', 'other.org', '/tenant/data/1', 'GET', 'tenant-deep-any-host'],
  ['method listed matches', 'x.org', '/write', 'POST', 'writes'],
  ['method compared upper-cased', 'x.org', '/write', 'put', 'writes'],
  ['unlisted method goes to the next route of the same prefix', 'x.org', '/write/x', 'GET', 'reads'],
  ['HEAD matches a route listing GET', 'x.org', '/write', 'HEAD', 'reads'],
  ['prefix compared without case', 'x.org', '/ADMIN/users', 'GET', 'admin-any'],
  ['mixed case prefix on a host route', 'admin.example.com', '/Admin', 'GET', 'admin-host'],
  ['case does not glue segments', 'x.org', '/PUBLICity', 'GET', 'root'],
  ['configured trailing slash matches the bare prefix', 'x.org', '/docs', 'GET', 'trailing-slash-config'],
  ['configured trailing slash matches below', 'x.org', '/docs/a', 'GET', 'trailing-slash-config'],
];

t.test('route precedence table', async (t) => {
  for (const [description, host, path, method, expected] of matchRows) {
    const selected = matcher.match(host, path, method);
    t.equal(selected.kind === 'route' ? selected.route.name : undefined, expected, description);
  }
});

t.test('a method no route of the winning prefix takes is 405, never a shorter prefix', async (t) => {
  t.same(matcher.match('x.org', '/write', 'DELETE'), { kind: 'method', allow: ['POST', 'PUT', 'GET', 'HEAD'] }, 'root route is not used');
  const reports = compileRoutes([route('all', '/'), route('reports', '/reports', undefined, ['GET'])]);
  t.same(reports.match('x.org', '/Reports/1', 'POST'), { kind: 'method', allow: ['GET', 'HEAD'] });
  const hosted = compileRoutes([route('any', '/api'), route('host', '/api', 'a.example.com', ['GET'])]);
  t.same(hosted.match('a.example.com', '/api', 'POST'), { kind: 'method', allow: ['GET', 'HEAD'] }, 'the winning host set decides');
  const other = hosted.match('b.example.com', '/api', 'POST');
  t.equal(other.kind === 'route' ? other.route.name : other.kind, 'any', 'another host uses the hostless route');
});

t.test('no match without a catch-all route', async (t) => {
  const narrow = compileRoutes([route('api', '/api', 'api.example.com', ['GET'])]);
  const rows: ReadonlyArray<readonly [string, string | undefined, string, string]> = [
    ['other path', 'api.example.com', '/other', 'GET'],
    ['glued path', 'api.example.com', '/apis', 'GET'],
    ['other host', 'www.example.com', '/api', 'GET'],
    ['missing host', undefined, '/api', 'GET'],
    ['other method', 'api.example.com', '/api', 'POST'],
  ];
  for (const [description, host, path, method] of rows) {
    t.equal(narrow.match(host, path, method).kind, method === 'GET' ? 'none' : 'method', description);
  }
  const fitting = narrow.match('api.example.com', '/api/x', 'GET');
  t.equal(fitting.kind === 'route' ? fitting.route.name : fitting.kind, 'api', 'and the fitting request matches');
  t.same(compileRoutes([]).match('x', '/', 'GET'), { kind: 'none' }, 'no routes match nothing');
});
