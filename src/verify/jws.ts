/**
 * JWS compact serialisation: parsing and the signature check.
 *
 * Enforces, before any crypto: a length cap; exactly three segments (a five-segment JWE is
 * refused, never decrypted); strict, canonical base64url (no padding, no set unused bits: one
 * token has one spelling); header and payload are JSON objects in valid UTF-8 with no member
 * name twice in any object (JSON.parse keeps the last copy, other parsers the first: the
 * upstream must read the claims portcullis judged); `alg` a string and `kid` a string when
 * present; no `crit`, and no key carried or pointed to by the token (`jwk`, `jku`, `x5u`,
 * `x5c`: nothing in a header is ever used or fetched); header and payload `typ` fit the token
 * kind (an access token: header JWT or at+jwt, Keycloak payload typ Bearer; an ID token:
 * header JWT, payload typ ID), so refresh, ID and access tokens never stand in for each other.
 * The signature check refuses a key whose type does not fit the alg, so an RSA public key is
 * never an HMAC secret.
 */
import { constants, createHmac, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isObject } from '../util/object.js';
import { keyFitsAlg } from './jwk.js';

/** What one kind of token may look like. `typ` values absent from a token are always fine. */
export interface TokenProfile {
  /** `an access token`, `an ID token`: the detail of a refusal names it. */
  readonly name: string;
  readonly maxLength: number;
  /** Accepted header `typ` values, lower-case. */
  readonly headerTyp: ReadonlySet<string>;
  /** Accepted payload `typ` values (Keycloak marks its tokens so), exact. */
  readonly payloadTyp: ReadonlySet<string>;
}

export const ACCESS_TOKEN: TokenProfile = {
  name: 'an access token',
  maxLength: 8192,
  headerTyp: new Set(['jwt', 'at+jwt', 'application/at+jwt']),
  payloadTyp: new Set(['Bearer']),
};

/** ID tokens carry more profile claims than access tokens: a larger cap. */
export const ID_TOKEN: TokenProfile = {
  name: 'an ID token',
  maxLength: 16 * 1024,
  headerTyp: new Set(['jwt']),
  payloadTyp: new Set(['ID']),
};

export interface ParsedJws {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `<header>.<payload>` as sent: the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

export type ParseResult = { readonly ok: true; readonly jws: ParsedJws } | { readonly ok: false; readonly detail: string };

const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(detail: string): ParseResult {
  return { ok: false, detail };
}

/**
 * The last character of a canonical encoding whose length is 2 or 3 past a multiple of 4: its
 * bits past the final byte are zero (4 of them: A Q g w; 2 of them: every fourth letter).
 */
const CANONICAL_LAST: Readonly<Record<number, string>> = { 2: 'AQgw', 3: 'AEIMQUYcgkosw048' };

/**
 * Canonical base64url only: the decoded bytes must encode back to the same text. Checked
 * without encoding them again: alphabet, no length 1 past a multiple of 4 (no whole byte in
 * the last character), no set bit past the last byte.
 */
function decodeSegment(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  const rest = segment.length % 4;
  if (rest === 1) return undefined;
  if (rest !== 0 && !(CANONICAL_LAST[rest] as string).includes(segment.charAt(segment.length - 1))) return undefined;
  return Buffer.from(segment, 'base64url');
}

type JsonObjectResult = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly detail: string };

/** Members of every object in a parsed JSON value (JSON.parse keeps one per distinct name). */
function memberCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const child of value) count += memberCount(child);
    return count;
  }
  for (const name of Object.keys(value)) count += 1 + memberCount((value as Record<string, unknown>)[name]);
  return count;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
/** The whitespace JSON allows between tokens: space, tab, line feed, carriage return. */
const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Member names as written: strings followed by `:`, escaped spellings counted as written. One
 * pass over text JSON.parse has accepted (so every string is closed and only JSON whitespace
 * lies between tokens).
 */
function writtenMemberCount(text: string): number {
  let count = 0;
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) !== QUOTE) {
      i += 1;
      continue;
    }
    i += 1;
    while (i < text.length && text.charCodeAt(i) !== QUOTE) i += text.charCodeAt(i) === BACKSLASH ? 2 : 1;
    i += 1;
    while (isJsonSpace(text.charCodeAt(i))) i += 1;
    if (text.charCodeAt(i) === COLON) count += 1;
  }
  return count;
}

function decodeJsonObject(segment: string, part: string): JsonObjectResult {
  const bytes = decodeSegment(segment);
  if (bytes === undefined) return { ok: false, detail: `${part} not canonical base64url` };
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return { ok: false, detail: `${part} not a JSON object` };
  }
  if (!isObject(value)) return { ok: false, detail: `${part} not a JSON object` };
  if (writtenMemberCount(text) !== memberCount(value)) return { ok: false, detail: `${part} repeats a member name` };
  return { ok: true, value };
}

export function parseCompact(token: string, profile: TokenProfile = ACCESS_TOKEN): ParseResult {
  if (token.length > profile.maxLength) return fail('token too long');
  const segments = token.split('.');
  if (segments.length === 5) return fail('JWE not accepted');
  const [headerText, payloadText, signatureText] = segments;
  if (segments.length !== 3 || headerText === undefined || payloadText === undefined || signatureText === undefined) {
    return fail('not three segments');
  }
  const header = decodeJsonObject(headerText, 'header');
  if (!header.ok) return header;
  const payload = decodeJsonObject(payloadText, 'payload');
  if (!payload.ok) return payload;
  const signature = decodeSegment(signatureText);
  if (signature === undefined) return fail('signature not canonical base64url');
  const { alg, kid, typ } = header.value;
  if (typeof alg !== 'string') return fail('alg missing');
  if (kid !== undefined && typeof kid !== 'string') return fail('kid not a string');
  if (Object.hasOwn(header.value, 'crit')) return fail('crit header parameter');
  if (KEY_HEADERS.some((name) => Object.hasOwn(header.value, name))) return fail('key in the header');
  if (typ !== undefined && !(typeof typ === 'string' && profile.headerTyp.has(typ.toLowerCase()))) return fail(`header typ not for ${profile.name}`);
  const kind = payload.value.typ;
  if (kind !== undefined && !(typeof kind === 'string' && profile.payloadTyp.has(kind))) return fail(`not ${profile.name}`);
  return { ok: true, jws: { alg, kid, payload: payload.value, signingInput: `${headerText}.${payloadText}`, signature } };
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
