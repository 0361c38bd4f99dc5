/**
 * Seeded, bounded fuzz of the forward-auth header parser (src/forward-auth/endpoint.ts
 * `readForwardedRequest`) with a fake IncomingMessage: 2,000 random combinations of
 * X-Forwarded-Method/-Proto/-Host/-Uri, X-Original-Method/-URI/-URL and Host. It never throws;
 * whatever it accepts is a normalised origin-form path (no dot segments, no encoded slash or
 * backslash, no fragment), a valid host, an upper-case method and http/https; a URI that is
 * neither origin-form nor absolute http(s) is never accepted.
 */
import t from 'tap';
import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import { readForwardedRequest } from '../../../src/http/forwarded-request.js';
import { isValidHost } from '../../../src/http/request-info.js';
import type { RequestInfo } from '../../../src/http/request-info.js';
import { normalizeTarget } from '../../../src/util/normalize-path.js';

const SEED = 20_240_601;
const base: RequestInfo = { requestId: 'fuzz', method: 'GET', host: 'sidecar', path: '/_auth/verify', query: '', headers: {}, clientIp: '127.0.0.1', peerIp: '127.0.0.1', trustedPeer: false, proto: 'http' };

const pathPiece = fc.constantFrom('/', '..', '.', '%2e', '%2F', '%5C', '\\', '#', '?', ';', '%00', 'public', 'admin', '//', '%25', '%c0%ae', ' ', '\t', 'é', '@', ':');
const uri = fc.oneof(
  fc.array(pathPiece, { maxLength: 12 }).map((p) => p.join('')),
  fc.array(pathPiece, { maxLength: 12 }).map((p) => `/${p.join('')}`),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);
const host = fc.oneof(fc.domain(), fc.constantFrom('', 'a.b', 'x@y', '[::1]', '[::1', 'h:99', 'h:', 'EVIL.com.', 'a,b', 'a b'), fc.string({ maxLength: 20 }));
const headerSet = fc.record(
  {
    'x-forwarded-method': fc.oneof(fc.constantFrom('GET', 'post', 'GET /admin', '', 'X'.repeat(20)), fc.string({ maxLength: 10 })),
    'x-forwarded-proto': fc.oneof(fc.constantFrom('http', 'https', 'HTTPS', 'gopher', 'https, http', ''), fc.string({ maxLength: 8 })),
    'x-forwarded-host': host,
    'x-forwarded-uri': uri,
    'x-original-method': fc.constantFrom('GET', 'DELETE', ''),
    'x-original-uri': uri,
    'x-original-url': fc.oneof(uri, fc.webUrl({ withQueryParameters: true }), fc.tuple(fc.constantFrom('http://', 'https://', 'HTTP://', 'javascript:'), host, uri).map((p) => p.join(''))),
    host,
  },
  { requiredKeys: [] },
);

const fakeRequest = (headers: Record<string, string>): IncomingMessage => ({ headers, method: 'GET' }) as unknown as IncomingMessage;

t.test('never throws; whatever is accepted is normalised and well-formed (2,000 seeded cases)', async (t) => {
  fc.assert(
    fc.property(headerSet, (headers) => {
      const result = readForwardedRequest(fakeRequest(headers), base);
      if (!result.ok) return true;
      const { path, query, host: h, method, proto } = result.info;
      const again = normalizeTarget(`${path}${query}`);
      return (
        path.startsWith('/') &&
        !/(^|\/)\.\.?(\/|$)/.test(path) &&
        !/%2F|%5C|\\|#|%00/i.test(path) &&
        again.ok && again.path === path &&
        isValidHost(h) &&
        /^[A-Z]{1,16}$/.test(method) &&
        (proto === 'http' || proto === 'https')
      );
    }),
    { seed: SEED, numRuns: 2_000 },
  );
  t.pass('2,000 cases');
});

t.test('a URI neither origin-form nor absolute http(s) is never accepted', async (t) => {
  const garbage = fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !s.startsWith('/') && !/^https?:\/\//i.test(s));
  fc.assert(
    fc.property(garbage, host, (u, h) => !readForwardedRequest(fakeRequest({ 'x-forwarded-uri': u, 'x-forwarded-host': h }), base).ok),
    { seed: SEED, numRuns: 2_000 },
  );
  t.pass('2,000 cases');
});

t.test('X-Original-URL judges the path it names, whatever the spelling of its host', async (t) => {
  // A host spelled differently from its WHATWG form (case, percent-encoding, default port,
  // userinfo) must not shift the path that is judged.
  const spellings = ['http://p%75blic/admin', 'http://PUBLIC/admin', 'https://api.example.com:443/admin', 'http://API.EXAMPLE.COM/admin', 'http://u:p@api.example.com/admin'];
  for (const url of spellings) {
    const result = readForwardedRequest(fakeRequest({ 'x-original-url': url }), base);
    t.ok(!result.ok || result.info.path === '/admin', `${url} → ${result.ok ? result.info.path : 'refused'}`);
  }
});
