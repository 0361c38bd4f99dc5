/**
 * Seeded, bounded fuzz of the token parser and verifier (src/verify): 2,000 cases of random
 * text, random three- and five-segment strings, and hand-built JWS with random headers and
 * payloads carrying random signatures. Neither `parseCompact` nor `verify` ever throws, and
 * `verify` never answers ok for any of them; every denial has a reason of the fixed set.
 */
import t from 'tap';
import fc from 'fast-check';
import type { KeyStore } from '../../../src/verify/key-store.js';
import { createKeyStore } from '../../../src/verify/key-store.js';
import { parseCompact } from '../../../src/verify/jws.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { isReason } from '../../../src/errors.js';
import { issuerFor } from '../../support/jwks-server.js';
import type { JwksServer } from '../../support/jwks-server.js';
import { rsaKey } from '../../support/keys.js';
import { NOW_MS, NOW_SEC, b64url } from '../../support/tokens.js';

const SEED = 20_240_601;
const key = rsaKey({ kid: 'k1' });
const fakeServer = { url: 'https://rsa.example' } as JwksServer;
const rsaIssuer = issuerFor(fakeServer, { name: 'rsa', issuer: 'https://rsa.example' });
const hsIssuer = issuerFor(fakeServer, { name: 'hs', issuer: 'https://hs.example', algorithms: ['HS256'], secret: 's'.repeat(32) });
// A key store that holds one RSA key and never touches the network.
const rsaStore: KeyStore = {
  name: 'rsa',
  start: () => Promise.resolve(),
  isReady: () => true,
  keyCount: () => 1,
  getKey: (kid, alg) => Promise.resolve(kid === 'k1' && alg === 'RS256' ? { ok: true, key: key.publicKey } : { ok: false, reason: 'unknown_kid' }),
  refresh: () => Promise.resolve(),
  holds: (kid) => kid === 'k1',
  close: () => undefined,
};
const stores = new Map<string, KeyStore>([['rsa', rsaStore], ['hs', createKeyStore(hsIssuer)]]);
const verifier = createVerifier([rsaIssuer, hsIssuer], stores, { cacheSize: 100, now: () => NOW_MS });

const json = fc.jsonValue({ maxDepth: 2 });
const header = fc.oneof(
  fc.record({ alg: fc.constantFrom('RS256', 'HS256', 'none', 'None', 'ES256', 'PS256', 'RS512', 'HS512', ''), kid: fc.constantFrom('k1', 'k2', undefined), typ: fc.constantFrom('JWT', 'at+jwt', 'JOSE', undefined), jku: fc.constantFrom(undefined, 'https://evil.example') }, { requiredKeys: ['alg'] }),
  fc.dictionary(fc.string({ maxLength: 5 }), json, { maxKeys: 4 }),
);
const payload = fc.oneof(
  fc.record({
    iss: fc.constantFrom('https://rsa.example', 'https://hs.example', 'https://evil.example', 7),
    sub: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
    aud: fc.constantFrom('api', ['api'], 'other', undefined),
    exp: fc.oneof(fc.constant(NOW_SEC + 300), fc.double(), fc.string({ maxLength: 4 })),
    typ: fc.constantFrom(undefined, 'Bearer', 'Refresh', 'ID'),
  }, { requiredKeys: [] }),
  json,
);
const segment = fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 64 }).map((b) => b64url(Buffer.from(b))));
const tokens = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')),
  fc.tuple(header, payload, fc.uint8Array({ maxLength: 300 })).map(([h, p, sig]) => `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(p) ?? 'null')}.${b64url(Buffer.from(sig))}`),
  fc.tuple(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }), segment).map(([h, p, s]) => `${b64url(h)}.${b64url(p)}.${s}`),
);

t.test('parseCompact never throws on 2,000 seeded inputs', async (t) => {
  fc.assert(
    fc.property(tokens, (token) => {
      const parsed = parseCompact(token);
      return parsed.ok || typeof parsed.detail === 'string';
    }),
    { seed: SEED, numRuns: 2_000 },
  );
  t.pass('2,000 cases');
});

t.test('verify never throws and never accepts garbage (2,000 seeded inputs)', async (t) => {
  await fc.assert(
    fc.asyncProperty(tokens, async (token) => {
      const result = await verifier.verify(token);
      return !result.ok && isReason(result.reason);
    }),
    { seed: SEED, numRuns: 2_000 },
  );
  t.pass('2,000 cases');
});
