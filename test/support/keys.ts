/**
 * Test signing keys, generated per run: RSA 2048, EC P-256 and Ed25519 pairs with their public
 * JWK (kid, alg, use) ready to publish from the JWKS test server.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';

export interface TestKey {
  readonly kid: string;
  /** The alg tokens signed with this key use. */
  readonly alg: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Public JWK with kid, alg and use: what an IdP publishes. */
  readonly jwk: JsonWebKey;
}

export function randomKid(): string {
  return randomBytes(8).toString('hex');
}

function finish(kid: string, alg: string, pair: { privateKey: KeyObject; publicKey: KeyObject }): TestKey {
  const jwk: JsonWebKey = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export function rsaKey(opts: { kid?: string; alg?: string; bits?: number } = {}): TestKey {
  const pair = generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048 });
  return finish(opts.kid ?? randomKid(), opts.alg ?? 'RS256', pair);
}

export function ecKey(opts: { kid?: string } = {}): TestKey {
  return finish(opts.kid ?? randomKid(), 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
}

export function edKey(opts: { kid?: string } = {}): TestKey {
  return finish(opts.kid ?? randomKid(), 'EdDSA', generateKeyPairSync('ed25519'));
}

/** The JWKS document publishing `keys`. */
export function jwksOf(...keys: readonly TestKey[]): { keys: JsonWebKey[] } {
  return { keys: keys.map((k) => k.jwk) };
}
