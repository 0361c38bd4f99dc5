/**
 * ID token check of the browser login callback (OIDC Core §3.1.3.7).
 *
 * Enforces: jose `jwtVerify` with the login issuer's own key store (keys are never taken from
 * the token header), the issuer's algorithm allow-list (checked by jose before the key lookup),
 * `iss` = the configured issuer, `aud` containing the client id (and `azp` = the client id
 * when there are several audiences), `exp`, `iat`, `sub` and `nonce` required, the issuer's
 * clock skew; and `nonce` equal to the one sealed in the flow cookie, compared in constant
 * time. jose failures map to the fixed reason set; a nonce mismatch is `invalid_state`.
 */
import { timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { JWSHeaderParameters } from 'jose';
import type { TokenReason } from '../errors.js';
import type { LoginEnv } from './context.js';

export type IdTokenResult =
  | { readonly ok: true; readonly sub: string }
  | { readonly ok: false; readonly reason: TokenReason | 'invalid_state' };

const MAX_ID_TOKEN_LENGTH = 16 * 1024;

class KeyLookupError extends Error {
  constructor(readonly reason: 'unknown_kid' | 'auth_unavailable') {
    super(reason);
  }
}

function reasonOf(err: unknown): TokenReason {
  if (err instanceof KeyLookupError) return err.reason;
  const { code, claim } = (err ?? {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'alg_not_allowed';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'iss') return 'untrusted_issuer';
      if (claim === 'aud') return 'bad_audience';
      if (claim === 'nbf') return 'not_before';
      if (claim === 'iat') return 'issued_in_future';
      return 'missing_claim';
    default:
      return 'malformed';
  }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function checkIdToken(env: LoginEnv, idToken: string, nonce: string): Promise<IdTokenResult> {
  if (idToken.length > MAX_ID_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const store = env.state.stores.get(env.issuer.name);
  if (store === undefined || env.issuer.issuer === undefined) return { ok: false, reason: 'auth_unavailable' };
  const getKey = async (header: JWSHeaderParameters) => {
    const found = await store.getKey(header.kid, header.alg ?? '');
    if (!found.ok) throw new KeyLookupError(found.reason);
    return found.key;
  };
  try {
    const { payload } = await jwtVerify(idToken, getKey, {
      issuer: env.issuer.issuer,
      audience: env.login.clientId,
      algorithms: [...env.issuer.algorithms],
      clockTolerance: env.issuer.clockSkewSec,
      currentDate: new Date(env.now()),
      requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
    });
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== env.login.clientId) {
      return { ok: false, reason: 'bad_audience' };
    }
    if (typeof payload.nonce !== 'string' || !sameString(payload.nonce, nonce)) return { ok: false, reason: 'invalid_state' };
    return { ok: true, sub: payload.sub ?? '' };
  } catch (err) {
    return { ok: false, reason: reasonOf(err) };
  }
}
