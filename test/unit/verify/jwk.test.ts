import t from 'tap';
import { createSecretKey } from 'node:crypto';
import { importJwks, keyFitsAlg, storedKeyMatches } from '../../../src/verify/jwk.js';
import { ecKey, edKey, rsaKey } from '../../support/keys.js';

const rsa = rsaKey({ kid: 'rsa' });
const ec = ecKey({ kid: 'ec' });
const ed = edKey({ kid: 'ed' });
const small = rsaKey({ kid: 'small', bits: 1024 });
const privateJwk = { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'priv' };

const rows: { name: string; jwk: unknown; kept: boolean }[] = [
  { name: 'RSA 2048 signature key', jwk: rsa.jwk, kept: true },
  { name: 'EC P-256 key', jwk: ec.jwk, kept: true },
  { name: 'Ed25519 key', jwk: ed.jwk, kept: true },
  { name: 'key without use and alg', jwk: { kty: rsa.jwk.kty, n: rsa.jwk.n, e: rsa.jwk.e }, kept: true },
  { name: 'key_ops with verify', jwk: { ...rsa.jwk, key_ops: ['verify'] }, kept: true },
  { name: 'encryption key (use enc)', jwk: { ...rsa.jwk, use: 'enc' }, kept: false },
  { name: 'key_ops without verify', jwk: { ...rsa.jwk, key_ops: ['encrypt'] }, kept: false },
  { name: 'RSA 1024 (below 2048 bits)', jwk: small.jwk, kept: false },
  { name: 'private key (has d)', jwk: privateJwk, kept: false },
  { name: 'x5c-only key', jwk: { kty: 'RSA', kid: 'cert', x5c: ['MIIB'] }, kept: false },
  { name: 'symmetric key (kty oct)', jwk: { kty: 'oct', k: 'c2VjcmV0' }, kept: false },
  { name: 'X25519 key (not for signatures)', jwk: { ...ed.jwk, crv: 'X25519' }, kept: false },
  { name: 'non-string kid', jwk: { ...rsa.jwk, kid: 7 }, kept: false },
  { name: 'non-string alg', jwk: { ...rsa.jwk, alg: ['RS256'] }, kept: false },
  { name: 'undecodable modulus (0 bits)', jwk: { ...rsa.jwk, n: '!!' }, kept: false },
  { name: 'EC point not on the curve', jwk: { ...ec.jwk, x: 'AA', y: 'AA' }, kept: false },
  { name: 'not an object', jwk: 'RSA', kept: false },
];

for (const row of rows) {
  t.test(`JWK import: ${row.name}`, async (t) => {
    const result = importJwks({ keys: [row.jwk] });
    t.equal(result.ok && result.keys.length, row.kept ? 1 : 0);
  });
}

t.test('JWK import: a document that is not a JWK set', async (t) => {
  for (const doc of [null, [], { keys: {} }, 'x']) t.same(importJwks(doc), { ok: false, detail: 'not a JWK set' });
});

const fits: { alg: string; key: string; fits: boolean }[] = [
  { alg: 'RS256', key: 'rsa', fits: true },
  { alg: 'PS512', key: 'rsa', fits: true },
  { alg: 'ES256', key: 'ec', fits: true },
  { alg: 'ES384', key: 'ec', fits: false },
  { alg: 'EdDSA', key: 'ed', fits: true },
  { alg: 'HS256', key: 'rsa', fits: false },
  { alg: 'HS256', key: 'secret', fits: true },
  { alg: 'RS256', key: 'secret', fits: false },
  { alg: 'RS256', key: 'ec', fits: false },
  { alg: 'EdDSA', key: 'rsa', fits: false },
  { alg: 'none', key: 'rsa', fits: false },
];
const keys = { rsa: rsa.publicKey, ec: ec.publicKey, ed: ed.publicKey, secret: createSecretKey(Buffer.alloc(32, 1)) };
for (const row of fits) {
  t.test(`key fit: ${row.alg} with a ${row.key} key`, async (t) => {
    t.equal(keyFitsAlg(keys[row.key as keyof typeof keys], row.alg), row.fits);
  });
}

t.test('a key naming an alg only matches that alg', async (t) => {
  const result = importJwks({ keys: [{ ...rsa.jwk, alg: 'PS256' }] });
  const stored = result.ok ? result.keys[0] : undefined;
  t.ok(stored);
  t.equal(storedKeyMatches(stored!, 'PS256'), true, 'PS256');
  t.equal(storedKeyMatches(stored!, 'RS256'), false, 'not RS256');
});
