/**
 * JWK set import and key/algorithm fit.
 *
 * Enforces: only signature keys are kept (`use` absent or `sig`, `key_ops` absent or with
 * `verify`); kty RSA (modulus >= 2048 bits), EC (P-256/384/521) or OKP (Ed25519); a JWK
 * carrying private material (`d`) is refused; certificate-only keys (x5c without the key
 * members) are skipped; keys are imported with node:crypto, never fetched from anywhere.
 * A key with an `alg` matches only that alg; every key must fit the token alg by type
 * (an RSA public key is never an HMAC secret).
 */
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { isObject } from '../util/object.js';

export interface StoredKey {
  readonly kid: string | undefined;
  /** The JWK's own `alg`, if it names one. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

export type ImportResult =
  | { readonly ok: true; readonly keys: readonly StoredKey[] }
  | { readonly ok: false; readonly detail: string };

const MIN_RSA_BITS = 2048;

const CURVE_OF_ALG: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/** The public members of each key type; anything else is dropped before import. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

export function importJwks(doc: unknown): ImportResult {
  if (!isObject(doc) || !Array.isArray(doc.keys)) return { ok: false, detail: 'not a JWK set' };
  const keys: StoredKey[] = [];
  for (const jwk of doc.keys as unknown[]) {
    const stored = importJwk(jwk);
    if (stored !== undefined) keys.push(stored);
  }
  return { ok: true, keys };
}

function importJwk(jwk: unknown): StoredKey | undefined {
  if (!isObject(jwk) || typeof jwk.kty !== 'string') return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined;
  // A published private key is an IdP misconfiguration; never hold it.
  if (jwk.d !== undefined) return undefined;
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return undefined;
  if (jwk.alg !== undefined && typeof jwk.alg !== 'string') return undefined;
  const members = PUBLIC_MEMBERS[jwk.kty];
  if (members === undefined) return undefined;
  if (jwk.kty === 'OKP' && jwk.crv !== 'Ed25519') return undefined;
  const material: Record<string, unknown> = {};
  for (const name of members) {
    // x5c-only keys lack these members and are skipped: certificates are not parsed here.
    if (typeof jwk[name] !== 'string') return undefined;
    material[name] = jwk[name];
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: material as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
  return { kid: jwk.kid, alg: jwk.alg, key };
}

/** Whether `key` may verify a signature made with `alg`, by key type alone. */
export function keyFitsAlg(key: KeyObject, alg: string): boolean {
  if (/^HS(256|384|512)$/.test(alg)) return key.type === 'secret';
  if (key.type !== 'public') return false;
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return key.asymmetricKeyType === 'rsa';
  const curve = CURVE_OF_ALG[alg];
  if (curve !== undefined) return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === curve;
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519';
  return false;
}

/** Whether a stored key may be chosen for a token signed with `alg`. */
export function storedKeyMatches(stored: StoredKey, alg: string): boolean {
  return (stored.alg === undefined || stored.alg === alg) && keyFitsAlg(stored.key, alg);
}
