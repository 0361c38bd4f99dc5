/**
 * ID token verification for the browser login (OIDC Core §3.1.3.7), on the same parser and
 * checks as access tokens (./verifier.ts `checkSigned`), with the ID token's own rules.
 *
 * Enforces, besides everything `parseCompact` and `checkSigned` enforce: the ID token shape
 * (16 KiB cap; header typ JWT; payload typ absent or Keycloak's `ID`, so an access or refresh
 * token never stands in); `iss` exactly the login issuer; `aud` containing the client id;
 * `exp`, `iat` and `sub` present; `azp`, when present or when `aud` names several audiences,
 * equal to the client id; `nonce` equal to the one sealed in the flow, compared in constant
 * time; `at_hash`, when present, the left half of the hash of the access token issued with
 * it (SHA-2 of the alg's size; SHA-512 for EdDSA/Ed25519). A nonce or at_hash mismatch is
 * `invalid_state`: the answer does not belong to this login.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IssuerConfig } from '../config/types.js';
import type { TokenReason } from '../errors.js';
import { ID_TOKEN, parseCompact } from './jws.js';
import type { KeyStore } from './key-store.js';
import { checkSigned } from './verifier.js';

export interface IdTokenExpectations {
  readonly clientId: string;
  /** The nonce sent in the authorization request. */
  readonly nonce: string;
  /** The access token of the same token response, for `at_hash`. */
  readonly accessToken: string;
}

export type IdTokenResult =
  | { readonly ok: true; readonly sub: string; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: TokenReason | 'invalid_state'; readonly detail: string };

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** OIDC Core §3.1.3.8: base64url of the left half of the hash of the token's ASCII bytes. */
function tokenHash(alg: string, token: string): string {
  const hash = alg === 'EdDSA' ? 'sha512' : `sha${alg.slice(2)}`;
  const digest = createHash(hash).update(token, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export async function verifyIdToken(
  token: string,
  issuer: IssuerConfig,
  store: KeyStore | undefined,
  expect: IdTokenExpectations,
  nowMs: number,
): Promise<IdTokenResult> {
  const parsed = parseCompact(token, ID_TOKEN);
  if (!parsed.ok) return { ok: false, reason: 'malformed', detail: parsed.detail };
  const { jws } = parsed;
  const { payload } = jws;
  if (issuer.issuer === undefined || payload.iss !== issuer.issuer) return { ok: false, reason: 'untrusted_issuer', detail: 'iss is not the login issuer' };
  const requirements = { audiences: [expect.clientId], clockSkewSec: issuer.clockSkewSec, requireIat: true };
  const checked = await checkSigned(jws, issuer, store, requirements, nowMs);
  if (!checked.ok) return checked;
  const severalAudiences = Array.isArray(payload.aud) && payload.aud.length > 1;
  if ((severalAudiences || payload.azp !== undefined) && payload.azp !== expect.clientId) {
    return { ok: false, reason: 'bad_audience', detail: 'azp is not the client id' };
  }
  if (payload.nonce === undefined) return { ok: false, reason: 'missing_claim', detail: 'nonce missing' };
  if (typeof payload.nonce !== 'string' || !sameString(payload.nonce, expect.nonce)) return { ok: false, reason: 'invalid_state', detail: 'nonce mismatch' };
  const atHash = payload.at_hash;
  if (atHash !== undefined && (typeof atHash !== 'string' || !sameString(atHash, tokenHash(jws.alg, expect.accessToken)))) {
    return { ok: false, reason: 'invalid_state', detail: 'at_hash mismatch' };
  }
  return { ok: true, sub: checked.sub, claims: payload };
}
