import t from 'tap';
import { createHash } from 'node:crypto';
import { createTokenCache, tokenFingerprint } from '../../../src/verify/token-cache.js';
import type { VerifiedToken } from '../../../src/verify/types.js';
import { NOW_MS, NOW_SEC } from '../../support/tokens.js';

const verified = (exp: number): VerifiedToken => ({ issuer: 'a', claims: { sub: 'u', exp }, exp, kid: 'k' });

t.test('tokenFingerprint: the first 12 hex chars of SHA-256', async (t) => {
  const expected = createHash('sha256').update('header.payload.sig').digest('hex').slice(0, 12);
  t.equal(tokenFingerprint('header.payload.sig'), expected);
  t.match(tokenFingerprint('x'), /^[0-9a-f]{12}$/);
});

t.test('a hit needs the exact token string', async (t) => {
  const cache = createTokenCache({ max: 10, now: () => NOW_MS });
  cache.set('tok', verified(NOW_SEC + 60));
  t.same(cache.get('tok'), verified(NOW_SEC + 60), 'same token: hit');
  t.equal(cache.get('tok2'), undefined, 'another token string: miss');
  cache.clear();
  t.equal(cache.get('tok'), undefined, 'cleared: miss');
});

t.test('entries end at exp on the injected clock; the LRU bound holds', async (t) => {
  const clock = { ms: NOW_MS };
  const cache = createTokenCache({ max: 2, now: () => clock.ms });
  cache.set('a', verified(NOW_SEC + 10));
  cache.set('b', verified(NOW_SEC + 100));
  cache.set('c', verified(NOW_SEC + 100));
  t.equal(cache.get('a'), undefined, 'oldest evicted past max');
  clock.ms = NOW_MS + 100_000;
  t.equal(cache.get('b'), undefined, 'at exp: gone');
  cache.set('d', verified(NOW_SEC + 100));
  t.equal(cache.get('d'), undefined, 'already expired: not stored');
});
