/**
 * Sealed cookie values: the browser-login flow state and the refresh token, encrypted and
 * authenticated so the browser can carry them but neither read nor alter them.
 *
 * Enforces: JWE compact `dir` + `A256GCM` (jose) only, no other algorithm accepted on open;
 * one key per purpose, derived with HKDF-SHA256 from `cookie_secret` under its own label, so a
 * refresh cookie never opens as a flow cookie and the reverse; `iat` and `exp` always set and
 * checked against the injected clock without tolerance; oversized values are refused before
 * any decryption. Opening never throws: a tampered, expired, foreign or malformed value is
 * `undefined`.
 */
import { hkdfSync } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';

export type SealPurpose = 'flow' | 'refresh';

export interface Sealer {
  seal(purpose: SealPurpose, payload: Readonly<Record<string, string>>, ttlSec: number): Promise<string>;
  open(purpose: SealPurpose, value: string): Promise<Record<string, unknown> | undefined>;
}

/** Far above any value this module writes (a refresh token of a few KiB); bounds the work per cookie. */
const MAX_SEALED_LENGTH = 8192;
const SALT = 'portcullis cookie seal v1';
const LABELS: Readonly<Record<SealPurpose, string>> = {
  flow: 'portcullis login flow state',
  refresh: 'portcullis refresh token cookie',
};

function deriveKey(secret: string, purpose: SealPurpose): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, LABELS[purpose], 32));
}

export function createSealer(secret: string, now: () => number): Sealer {
  const keys: Record<SealPurpose, Uint8Array> = { flow: deriveKey(secret, 'flow'), refresh: deriveKey(secret, 'refresh') };
  return {
    seal(purpose, payload, ttlSec) {
      const iat = Math.floor(now() / 1000);
      return new EncryptJWT({ ...payload })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSec)
        .encrypt(keys[purpose]);
    },
    async open(purpose, value) {
      if (value.length === 0 || value.length > MAX_SEALED_LENGTH) return undefined;
      try {
        const { payload } = await jwtDecrypt(value, keys[purpose], {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
          requiredClaims: ['iat', 'exp'],
          currentDate: new Date(now()),
        });
        return payload;
      } catch {
        return undefined;
      }
    },
  };
}
