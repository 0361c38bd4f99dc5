import t from 'tap';
import { checkIssuerOnline, discoveryUrl } from '../../../src/verify/discovery.js';
import { isAllowedKeyUrl } from '../../../src/util/url-policy.js';
import { MockAgent } from 'undici';
import { getJson } from '../../../src/verify/http-get.js';
import { issuerFor, startJwksServer } from '../../support/jwks-server.js';
import { rsaKey } from '../../support/keys.js';

const key = rsaKey();

t.test('discovery URL is built from the issuer without its trailing slash', async (t) => {
  t.equal(discoveryUrl('https://kc.example.com/realms/acme/'), 'https://kc.example.com/realms/acme/.well-known/openid-configuration');
  t.equal(discoveryUrl('https://kc.example.com/realms/acme'), 'https://kc.example.com/realms/acme/.well-known/openid-configuration');
});

const urls: { url: string; allowed: boolean; why: string }[] = [
  { url: 'https://idp.example.com/jwks', allowed: true, why: 'https' },
  { url: 'http://127.0.0.1:8080/jwks', allowed: true, why: 'http on IPv4 loopback' },
  { url: 'http://localhost/jwks', allowed: true, why: 'http on localhost' },
  { url: 'http://[::1]:80/jwks', allowed: true, why: 'http on IPv6 loopback' },
  { url: 'http://idp.example.com/jwks', allowed: false, why: 'plain http elsewhere' },
  { url: 'http://127.0.0.1.evil.com/jwks', allowed: false, why: 'loopback-looking host name' },
  { url: '/jwks', allowed: false, why: 'relative' },
  { url: 'file:///etc/passwd', allowed: false, why: 'file scheme' },
];
for (const row of urls) {
  t.test(`jwks_uri from discovery: ${row.why}`, async (t) => {
    t.equal(isAllowedKeyUrl(row.url), row.allowed);
  });
}

t.test('check --online: [] for a working issuer, one line per problem otherwise', async (t) => {
  const server = await startJwksServer([key.jwk]);
  t.teardown(() => server.close());
  const issuer = issuerFor(server);
  t.same(await checkIssuerOnline(issuer), [], 'discovery + JWKS fine');
  t.same(await checkIssuerOnline(issuerFor(server, { secret: 'x'.repeat(32), algorithms: ['HS256'] })), [], 'secret issuer: nothing to fetch');

  server.setDiscoveryDocument({ issuer: 'https://other.example.com', jwks_uri: server.jwksUri });
  t.same(await checkIssuerOnline(issuer), [
    `discovery: issuer mismatch from ${server.url}/.well-known/openid-configuration; check that issuer is exactly the IdP issuer URL and that the IdP is reachable, or set jwks_uri`,
  ], 'issuer mismatch');
  server.setDiscoveryDocument({ issuer: server.url, jwks_uri: server.jwksUri });

  server.modes.jwks = 'error500';
  t.same(await checkIssuerOnline(issuer), [
    `jwks: HTTP 500 from ${server.jwksUri}; check jwks_uri and that the IdP is reachable and publishes signing keys`,
  ], 'JWKS failing');
  server.modes.jwks = 'ok';

  server.setKeys([{ ...key.jwk, use: 'enc' }]);
  t.match(await checkIssuerOnline(issuerFor(server, { jwksUri: server.jwksUri })), [/^jwks: no usable signing keys from /], 'no usable key');
  t.equal(server.hits.discovery, 3, 'explicit jwks_uri skipped discovery');
});

t.test('bounded GET: failures become short details; the injected dispatcher is used', async (t) => {
  const server = await startJwksServer([]);
  const closedUrl = server.url;
  await server.close();
  t.same(await getJson(`${closedUrl}/jwks`, 1_000), { ok: false, detail: 'network error ECONNREFUSED' }, 'refused');

  const live = await startJwksServer([]);
  t.teardown(() => live.close());
  t.same(await getJson('not a url', 1_000), { ok: false, detail: 'network error ERR_INVALID_URL' }, 'unusable URL');
  t.same(await getJson(live.jwksUri, 1_000), { ok: true, value: { keys: [] } }, 'a JSON body');
  const failing = new MockAgent();
  failing.disableNetConnect();
  t.teardown(() => failing.close());
  failing.get(live.url).intercept({ path: '/jwks' }).replyWithError(new Error('connection reset'));
  t.same(await getJson(live.jwksUri, 1_000, { dispatcher: failing }), { ok: false, detail: 'network error' }, 'an error without code');
  t.equal(live.hits.jwks, 1, 'the injected dispatcher answered, not the server');
});
