/**
 * JWS compact serialisation: parsing and the signature check.
 *
 * Enforces, before any crypto: a length cap; exactly three segments (a five-segment JWE is
 * refused, never decrypted); strict, canonical base64url; header and payload are JSON objects
 * in valid UTF-8; `alg` a string and `kid` a string when present; no `crit`, and no key
 * carried or pointed to by the token (`jwk`, `jku`, `x5u`, `x5c`: nothing in a header is
 * ever used or fetched); header `typ` JWT or at+jwt; payload `typ` (Keycloak) Bearer only,
 * so refresh and ID tokens are refused. The signature check refuses a key whose type does
 * not fit the alg, so an RSA public key is never an HMAC secret.
 */
import { constants, createHmac, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isObject } from '../util/object.js';
import { keyFitsAlg } from './jwk.js';

export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

export interface ParsedJws {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `<header>.<payload>` as sent: the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

export type ParseResult = { readonly ok: true; readonly jws: ParsedJws } | { readonly ok: false; readonly detail: string };

const FORBIDDEN_HEADERS = ['crit', 'jwk', 'jku', 'x5u', 'x5c'] as const;
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(detail: string): ParseResult {
  return { ok: false, detail };
}

/** Canonical base64url only: the decoded bytes must encode back to the same text. */
function decodeSegment(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : undefined;
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeSegment(segment);
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function parseCompact(token: string, maxLength: number = DEFAULT_MAX_TOKEN_LENGTH): ParseResult {
  if (token.length > maxLength) return fail('token too long');
  const segments = token.split('.');
  if (segments.length === 5) return fail('JWE not accepted');
  const [headerText, payloadText, signatureText] = segments;
  if (segments.length !== 3 || headerText === undefined || payloadText === undefined || signatureText === undefined) {
    return fail('not three segments');
  }
  const header = decodeJsonObject(headerText);
  if (header === undefined) return fail('header not a base64url JSON object');
  const payload = decodeJsonObject(payloadText);
  if (payload === undefined) return fail('payload not a base64url JSON object');
  const signature = decodeSegment(signatureText);
  if (signature === undefined) return fail('signature not base64url');
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string') return fail('alg missing');
  if (kid !== undefined && typeof kid !== 'string') return fail('kid not a string');
  if (FORBIDDEN_HEADERS.some((name) => Object.hasOwn(header, name))) return fail('forbidden header parameter');
  if (typ !== undefined && !(typeof typ === 'string' && ACCEPTED_TYP.has(typ.toLowerCase()))) return fail('header typ not a JWT');
  if (payload.typ !== undefined && payload.typ !== 'Bearer') return fail('not an access token');
  return { ok: true, jws: { alg, kid, payload, signingInput: `${headerText}.${payloadText}`, signature } };
}

/** Verifies `jws.signature` with `key` under `alg`; false for any misfit, never throws. */
export function verifySignature(alg: string, key: KeyObject, jws: ParsedJws): boolean {
  if (!keyFitsAlg(key, alg)) return false;
  const data = Buffer.from(jws.signingInput, 'ascii');
  // keyFitsAlg admitted only EdDSA and (HS|RS|PS|ES)(256|384|512).
  const digest = `sha${alg.slice(2)}`;
  try {
    if (alg === 'EdDSA') return verify(null, data, key, jws.signature);
    if (alg.startsWith('HS')) {
      const expected = createHmac(digest, key).update(data).digest();
      return expected.length === jws.signature.length && timingSafeEqual(expected, jws.signature);
    }
    if (alg.startsWith('RS')) return verify(digest, data, key, jws.signature);
    if (alg.startsWith('PS')) {
      return verify(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jws.signature);
    }
    return verify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
  } catch {
    // node:crypto refuses some inputs by throwing (OpenSSL errors); a refusal is a denial.
    return false;
  }
}
