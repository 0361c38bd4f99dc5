import t from 'tap';
import type { RouteConfig } from '../../../src/config/types.js';
import { compileRoutes, hostMatches } from '../../../src/pipeline/match-route.js';

function route(name: string, path: string, host?: string, methods?: readonly string[]): RouteConfig {
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
  ['longer hostless path beats a host route', 'acme.example.com', '/tenant/data/1', 'GET', 'tenant-deep-any-host'],
  ['method listed matches', 'x.org', '/write', 'POST', 'writes'],
  ['method compared upper-cased', 'x.org', '/write', 'put', 'writes'],
  ['unlisted method falls to the next route', 'x.org', '/write/x', 'GET', 'reads'],
  ['no route for an unlisted method falls to the root', 'x.org', '/write', 'DELETE', 'root'],
  ['configured trailing slash matches the bare prefix', 'x.org', '/docs', 'GET', 'trailing-slash-config'],
  ['configured trailing slash matches below', 'x.org', '/docs/a', 'GET', 'trailing-slash-config'],
];

t.test('route precedence table', async (t) => {
  for (const [description, host, path, method, expected] of matchRows) {
    t.equal(matcher.match(host, path, method)?.name, expected, description);
  }
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
    t.equal(narrow.match(host, path, method), undefined, description);
  }
  t.equal(narrow.match('api.example.com', '/api/x', 'GET')?.name, 'api', 'and the fitting request matches');
  t.equal(compileRoutes([]).match('x', '/', 'GET'), undefined, 'no routes match nothing');
});
