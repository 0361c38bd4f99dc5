/**
 * Token minting for tests: well-formed tokens through jose `SignJWT`, and hand-forged ones
 * (any header, any payload text, any signature) for the hostile cases jose refuses to build.
 */
import { createHmac, sign } from 'node:crypto';
import { SignJWT } from 'jose';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import type { TestKey } from './keys.js';

export const NOW_MS = Date.UTC(2030, 0, 1);
export const NOW_SEC = NOW_MS / 1000;

/** Claims of a valid access token for `iss`, at NOW_SEC. */
export function accessClaims(iss: string, extra: JWTPayload = {}): JWTPayload {
  return { iss, sub: 'user-1', aud: 'api', exp: NOW_SEC + 300, iat: NOW_SEC - 10, ...extra };
}

/** Signs `claims` with `key` (its alg and kid unless `header` overrides them). */
export function mint(key: TestKey, claims: JWTPayload, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

export function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A token built by hand. `header`/`payload` objects are JSON-encoded, strings are taken as the
 * JSON text itself; `sign` gets the signing input and returns the signature bytes.
 */
export function forge(
  header: object | string,
  payload: object | string,
  sign: (input: string) => Buffer = () => Buffer.alloc(0),
): string {
  const text = (part: object | string): string => (typeof part === 'string' ? part : JSON.stringify(part));
  const input = `${b64url(text(header))}.${b64url(text(payload))}`;
  return `${input}.${b64url(sign(input))}`;
}

/** An HMAC signer with `secret` as the raw key bytes (e.g. an RSA public key's PEM). */
export function hmacSigner(secret: string | Buffer, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): (input: string) => Buffer {
  return (input) => createHmac(hash, secret).update(input).digest();
}

/** An RS256 signer with `key`'s private key. */
export function rsaSigner(key: TestKey): (input: string) => Buffer {
  return (input) => sign('sha256', Buffer.from(input), key.privateKey);
}
