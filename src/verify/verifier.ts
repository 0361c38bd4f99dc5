/**
 * Token verification: one verdict per token, as a value.
 *
 * Order (cheap checks before crypto): length cap; cache (keyed on the token; one cache per
 * verifier, so per config); JWS shape; issuer chosen by the unverified `iss`
 * (exact match, or the one issuer configured without `issuer`; other issuers' keys are never
 * tried); `alg` in that issuer's allow-list before any key lookup (`none` never); registered
 * claims; key lookup in that issuer's store; signature. Denials are returned, never thrown,
 * and their details are fixed strings that never echo token content.
 */
import type { IssuerConfig } from '../config/types.js';
import type { TokenReason } from '../errors.js';
import { deepFreeze } from '../util/object.js';
import { checkClaims } from './claims.js';
import { DEFAULT_MAX_TOKEN_LENGTH, parseCompact, verifySignature } from './jws.js';
import type { KeyStore } from './key-store.js';
import { createTokenCache, sha256Hex } from './token-cache.js';
import type { VerifiedToken, VerifyResult } from './types.js';

export interface Verifier {
  verify(token: string): Promise<VerifyResult>;
  clearCache(): void;
}

export interface VerifierOptions {
  readonly cacheSize: number;
  readonly now?: () => number;
  /** Default 8192. */
  readonly maxTokenLength?: number;
}

function deny(reason: TokenReason, detail: string, fingerprint: string): VerifyResult {
  return { ok: false, reason, detail, fingerprint };
}

/** Exact `iss` match; else the single issuer configured without `issuer`, if there is one. */
function selectIssuer(issuers: readonly IssuerConfig[], iss: unknown): IssuerConfig | undefined {
  const exact = typeof iss === 'string' ? issuers.find((i) => i.issuer === iss) : undefined;
  if (exact !== undefined) return exact;
  const open = issuers.filter((i) => i.issuer === undefined);
  return open.length === 1 ? open[0] : undefined;
}

export function createVerifier(
  issuers: readonly IssuerConfig[],
  stores: ReadonlyMap<string, KeyStore>,
  opts: VerifierOptions,
): Verifier {
  const now = opts.now ?? Date.now;
  const maxLength = opts.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  const cache = createTokenCache({ max: opts.cacheSize, now });

  async function verify(token: string): Promise<VerifyResult> {
    const digest = sha256Hex(token);
    const fingerprint = digest.slice(0, 12);
    if (token.length > maxLength) return deny('malformed', 'token too long', fingerprint);
    const hit = cache.get(digest);
    // A verdict stands only while its key is still published (a key the IdP withdrew, or keys
    // dropped after max_stale, end the cached verdicts made with them).
    if (hit !== undefined && stores.get(hit.issuer)?.holds(hit.kid) === true) return { ok: true, token: hit, cached: true, fingerprint };

    const parsed = parseCompact(token, maxLength);
    if (!parsed.ok) return deny('malformed', parsed.detail, fingerprint);
    const { jws } = parsed;
    const issuer = selectIssuer(issuers, jws.payload.iss);
    if (issuer === undefined) return deny('untrusted_issuer', 'iss matches no issuer', fingerprint);
    if (jws.alg === 'none' || !issuer.algorithms.includes(jws.alg)) return deny('alg_not_allowed', 'alg not in the allow-list', fingerprint);
    const claims = checkClaims(jws.payload, issuer, now());
    if (!claims.ok) return { ...claims, fingerprint };

    const store = stores.get(issuer.name);
    if (store === undefined) return deny('auth_unavailable', 'no key store for the issuer', fingerprint);
    const found = await store.getKey(jws.kid, jws.alg);
    if (!found.ok) return deny(found.reason, found.reason === 'unknown_kid' ? 'kid not published' : 'no keys', fingerprint);
    if (!verifySignature(jws.alg, found.key, jws)) return deny('bad_signature', 'signature does not verify', fingerprint);

    // Cached verdicts are shared between requests: nothing downstream may alter their claims.
    const verified: VerifiedToken = deepFreeze({ issuer: issuer.name, claims: jws.payload, exp: claims.exp, kid: jws.kid });
    cache.set(digest, verified);
    return { ok: true, token: verified, cached: false, fingerprint };
  }

  return { verify, clearCache: () => cache.clear() };
}
