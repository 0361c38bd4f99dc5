import t from 'tap';
import { createHash } from 'node:crypto';
import { createTokenCache, requirementsFingerprint, tokenFingerprint } from '../../../src/verify/token-cache.js';
import type { VerifiedToken } from '../../../src/verify/types.js';
import { issuerFor, startJwksServer } from '../../support/jwks-server.js';
import { NOW_MS, NOW_SEC } from '../../support/tokens.js';

const verified = (exp: number): VerifiedToken => ({ issuer: 'a', claims: { sub: 'u', exp }, exp, kid: 'k' });

t.test('tokenFingerprint: the first 12 hex chars of SHA-256 (SPEC §7)', async (t) => {
  const expected = createHash('sha256').update('header.payload.sig').digest('hex').slice(0, 12);
  t.equal(tokenFingerprint('header.payload.sig'), expected);
  t.match(tokenFingerprint('x'), /^[0-9a-f]{12}$/);
});

t.test('requirementsFingerprint changes with audiences, algorithms, issuer, skew', async (t) => {
  const server = await startJwksServer();
  t.teardown(() => server.close());
  const base = issuerFor(server);
  const fp = requirementsFingerprint(base);
  t.equal(requirementsFingerprint({ ...base }), fp, 'same requirements, same fingerprint');
  t.not(requirementsFingerprint({ ...base, audiences: ['other'] }), fp, 'audiences');
  t.not(requirementsFingerprint({ ...base, algorithms: ['RS256', 'ES256'] }), fp, 'algorithms');
  t.not(requirementsFingerprint({ ...base, issuer: 'https://x.example.com' }), fp, 'issuer URL');
  t.not(requirementsFingerprint({ ...base, name: 'other' }), fp, 'name');
  t.not(requirementsFingerprint({ ...base, clockSkewSec: 0 }), fp, 'clock skew');
});

t.test('a hit needs the same requirements for the issuer of that name', async (t) => {
  const cache = createTokenCache({ max: 10, now: () => NOW_MS });
  cache.set('tok', verified(NOW_SEC + 60), 'req-1');
  t.equal(cache.get('tok', () => 'req-2'), undefined, 'other requirements: miss');
  cache.set('tok', verified(NOW_SEC + 60), 'req-1');
  t.equal(cache.get('tok', () => undefined), undefined, 'issuer no longer configured: miss');
  cache.set('tok', verified(NOW_SEC + 60), 'req-1');
  t.same(cache.get('tok', () => 'req-1'), verified(NOW_SEC + 60), 'same requirements: hit');
  t.equal(cache.get('tok2', () => 'req-1'), undefined, 'another token string: miss');
});

t.test('entries end at exp on the injected clock; the LRU bound holds', async (t) => {
  const clock = { ms: NOW_MS };
  const cache = createTokenCache({ max: 2, now: () => clock.ms });
  cache.set('a', verified(NOW_SEC + 10), 'r');
  cache.set('b', verified(NOW_SEC + 100), 'r');
  cache.set('c', verified(NOW_SEC + 100), 'r');
  t.equal(cache.get('a', () => 'r'), undefined, 'oldest evicted past max');
  clock.ms = NOW_MS + 100_000;
  t.equal(cache.get('b', () => 'r'), undefined, 'at exp: gone');
  cache.set('d', verified(NOW_SEC + 100), 'r');
  t.equal(cache.get('d', () => 'r'), undefined, 'already expired: not stored');
});
