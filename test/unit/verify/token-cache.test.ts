import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { createTokenCache, flatCopy, tokenFingerprint, verdictBytes } from '../../../src/verify/token-cache.js';
import type { CachedVerdict } from '../../../src/verify/token-cache.js';
import { NOW_MS, NOW_SEC } from '../../support/tokens.js';

/** A verdict for `compact`, its subject naming the token it was made for. */
const verdict = (compact: string, exp = NOW_SEC + 60): CachedVerdict => ({
  ok: true,
  token: { issuer: 'a', claims: { sub: compact, exp }, exp, kid: 'k' },
  cached: true,
  fingerprint: tokenFingerprint(compact),
  compact,
});

t.test('tokenFingerprint: the first 12 hex chars of SHA-256', async (t) => {
  const expected = createHash('sha256').update('header.payload.sig').digest('hex').slice(0, 12);
  t.equal(tokenFingerprint('header.payload.sig'), expected);
  t.match(tokenFingerprint('x'), /^[0-9a-f]{12}$/);
});

t.test('flatCopy: the same characters', async (t) => {
  const header = `Bearer ${'a.b-c_d'.repeat(100)}`;
  const token = header.slice(7);
  t.equal(flatCopy(token), token);
  t.equal(flatCopy(''), '');
});

t.test('a hit needs the exact token string', async (t) => {
  const cache = createTokenCache({ max: 10, now: () => NOW_MS });
  const stored = verdict('tok');
  cache.set(stored);
  t.equal(cache.get('tok'), stored, 'same token: the stored verdict itself');
  t.equal(cache.get(`${'to'}k`), stored, 'an equal string built elsewhere: hit');
  t.equal(cache.get('tok2'), undefined, 'another token string: miss');
  t.equal(cache.get('to'), undefined, 'a prefix: miss');
  cache.clear();
  t.equal(cache.get('tok'), undefined, 'cleared: miss');
});

t.test('property: no token ever gets another token\'s verdict', async (t) => {
  // Tokens that differ in one character at every position, and long tokens of one length
  // (past the engine's string-hash length, strings hash by their length alone: every key
  // collides, so only the full comparison tells them apart).
  const base = randomBytes(300).toString('base64url');
  const alphabet = 'AbZ09-_.';
  const tokens = new Set<string>([base]);
  for (let i = 0; i < base.length; i += 1) {
    for (const c of alphabet) tokens.add(`${base.slice(0, i)}${c}${base.slice(i + 1)}`);
  }
  const long = randomBytes(15_000).toString('base64url');
  for (let i = 0; i < 200; i += 1) tokens.add(`${long.slice(0, i)}${long[i] === 'x' ? 'y' : 'x'}${long.slice(i + 1)}`);
  const all = [...tokens];
  const cache = createTokenCache({ max: all.length, now: () => NOW_MS });
  for (const token of all) cache.set(verdict(flatCopy(token)));
  let wrong = 0;
  for (const token of all) {
    const hit = cache.get(token);
    if (hit?.compact !== token || hit.token.claims.sub !== token || hit.fingerprint !== tokenFingerprint(token)) wrong += 1;
  }
  t.equal(wrong, 0, `${all.length} tokens, each finds its own verdict`);
  let strays = 0;
  for (let i = 0; i < 2000; i += 1) {
    const probe = randomBytes(225).toString('base64url');
    if (!tokens.has(probe) && cache.get(probe) !== undefined) strays += 1;
  }
  t.equal(strays, 0, 'tokens never stored: no verdict');
});

t.test('entries end at exp on the injected clock; the LRU bound holds', async (t) => {
  const clock = { ms: NOW_MS };
  const cache = createTokenCache({ max: 2, now: () => clock.ms });
  cache.set(verdict('a', NOW_SEC + 10));
  cache.set(verdict('b', NOW_SEC + 100));
  cache.set(verdict('c', NOW_SEC + 100));
  t.equal(cache.get('a'), undefined, 'oldest evicted past max');
  clock.ms = NOW_MS + 100_000;
  t.equal(cache.get('b'), undefined, 'at exp: gone');
  cache.set(verdict('d', NOW_SEC + 100));
  t.equal(cache.get('d'), undefined, 'already expired: not stored');
});

t.test('the least recently used entry is evicted, a hit counts as a use', async (t) => {
  const cache = createTokenCache({ max: 3, now: () => NOW_MS });
  for (const key of ['a', 'b', 'c']) cache.set(verdict(key));
  t.ok(cache.get('a'), 'a used again');
  cache.set(verdict('d'));
  t.equal(cache.get('b'), undefined, 'b, the least recently used, evicted');
  t.ok(cache.get('a'));
  t.ok(cache.get('c'));
  t.ok(cache.get('d'));
  cache.set(verdict('c'));
  cache.set(verdict('e'));
  t.equal(cache.get('a'), undefined, 'setting a held token again does not grow the cache');
  t.ok(cache.get('c'));
});

t.test('property: the cache behaves as a reference LRU under any mix of hits, misses, stores, expiry and clears', async (t) => {
  type Op = { kind: 'get' | 'set'; key: number; ttl: number } | { kind: 'tick' } | { kind: 'clear' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom('get' as const, 'set' as const), key: fc.nat(11), ttl: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 300 }), (max, ops) => {
      const clock = { ms: NOW_MS };
      const cache = createTokenCache({ max, now: () => clock.ms });
      /** The model: keys least recently used first, each with its verdict. */
      let model: { key: string; v: CachedVerdict }[] = [];
      for (const o of ops) {
        if (o.kind === 'tick') clock.ms += 5_000;
        else if (o.kind === 'clear') {
          cache.clear();
          model = [];
        } else {
          const key = `token-${o.key}`;
          const at = model.findIndex((e) => e.key === key);
          const held = at === -1 ? undefined : model.splice(at, 1)[0]!;
          if (o.kind === 'get') {
            const live = held !== undefined && held.v.token.exp * 1000 > clock.ms ? held.v : undefined;
            if (live !== undefined) model.push({ key, v: live });
            if (cache.get(key) !== live) return false;
          } else {
            const v = verdict(key, Math.floor(clock.ms / 1000) + o.ttl);
            if (model.length >= max) model.shift();
            model.push({ key, v });
            cache.set(v);
          }
        }
      }
      // Every key the model holds is found (and in the same recency order: re-reading them in
      // that order keeps it), and no other key is.
      for (const { key, v } of model) if (v.token.exp * 1000 > clock.ms && cache.get(key) !== v) return false;
      for (let k = 0; k < 12; k += 1) if (!model.some((e) => e.key === `token-${k}`) && cache.get(`token-${k}`) !== undefined) return false;
      return true;
    }),
    { seed: 20_261_130, numRuns: 400 },
  );
  t.pass('400 runs of up to 300 operations');
});

t.test('a verdict the cache let go of is not kept alive by hits on others', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const clock = { ms: NOW_MS };
  const cache = createTokenCache({ max: 10_000, now: () => clock.ms });
  // A cache far from full, as with a few hundred users: nothing is ever evicted.
  for (let i = 1; i <= 100; i += 1) cache.set(verdict(`token-${i}`, NOW_SEC + 3600));
  let gone: CachedVerdict | undefined = verdict('token-0', NOW_SEC + 10);
  const ref = new WeakRef(gone);
  cache.set(gone);
  gone = undefined;
  // Hits that change the recency order while the verdict is held (a Map used as the list
  // rebuilds its table again and again, and an old table must not keep what it held).
  const hits = (): void => {
    for (let i = 0; i < 100_000; i += 1) cache.get(`token-${1 + (i % 3)}`);
  };
  hits();
  clock.ms += 20_000;
  t.equal(cache.get('token-0'), undefined, 'expired: deleted');
  hits();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  t.equal(ref.deref(), undefined, 'collected');
});

t.test('the byte budget bounds a cache of long tokens; short ones fill it by count', async (t) => {
  const long = (i: number): string => `${i}.`.padEnd(8192, 'x');
  const one = verdictBytes(verdict(long(0)));
  t.equal(one, 3 * 8192 + 1280, 'the estimate: three times the token plus the objects');
  const cache = createTokenCache({ max: 100, now: () => NOW_MS, maxBytes: 10 * one });
  for (let i = 0; i < 20; i += 1) cache.set(verdict(long(i)));
  const held = Array.from({ length: 20 }, (_, i) => cache.get(long(i)) !== undefined);
  t.same(held, [...Array<boolean>(10).fill(false), ...Array<boolean>(10).fill(true)], 'the 10 most recent fit the budget');
  const short = createTokenCache({ max: 100, now: () => NOW_MS, maxBytes: 10 * one });
  for (let i = 0; i < 150; i += 1) short.set(verdict(`short-${i}`));
  t.equal(Array.from({ length: 150 }, (_, i) => short.get(`short-${i}`)).filter((v) => v !== undefined).length, 100, 'short tokens: max entries');
  const byDefault = createTokenCache({ max: 100, now: () => NOW_MS });
  byDefault.set(verdict(long(1)));
  t.ok(byDefault.get(long(1)), 'the default budget (half the heap limit) holds long tokens');
});

t.test('size 0 holds nothing', async (t) => {
  const cache = createTokenCache({ max: 0, now: () => NOW_MS });
  cache.set(verdict('a'));
  t.equal(cache.get('a'), undefined);
});
