/**
 * Token verification: one verdict per token, as a value.
 *
 * Order (cheap checks before crypto): length cap; cache (keyed on the token; one cache per
 * verifier, so per config); JWS shape; issuer chosen by the unverified `iss`
 * (exact match, or the one issuer configured without `issuer`; other issuers' keys are never
 * tried); then `checkSigned`, which ID tokens share (./id-token.ts): `alg` in that issuer's
 * allow-list before any key lookup (`none` never); registered claims; key lookup in that
 * issuer's store; signature. Denials are returned, never thrown, and their details are fixed
 * strings that never echo token content.
 */
import type { IssuerConfig } from '../config/types.js';
import type { TokenReason } from '../errors.js';
import { deepFreeze } from '../util/object.js';
import { checkClaims } from './claims.js';
import type { ClaimRequirements, ClaimsResult } from './claims.js';
import { ACCESS_TOKEN, parseCompact, verifySignature } from './jws.js';
import type { ParsedJws } from './jws.js';
import type { KeyStore } from './key-store.js';
import { createTokenCache, flatCopy, tokenFingerprint } from './token-cache.js';
import type { CachedVerdict } from './token-cache.js';
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

/**
 * The checks every token kind makes once its issuer is chosen, cheap ones first: `alg` in the
 * issuer's allow-list before any key lookup (`none` never), registered claims, the key from
 * that issuer's own store, the signature.
 */
export async function checkSigned(
  jws: ParsedJws,
  issuer: IssuerConfig,
  store: KeyStore | undefined,
  claims: ClaimRequirements,
  nowMs: number,
): Promise<ClaimsResult> {
  if (jws.alg === 'none' || !issuer.algorithms.includes(jws.alg)) return { ok: false, reason: 'alg_not_allowed', detail: 'alg not in the allow-list' };
  const checked = checkClaims(jws.payload, claims, nowMs);
  if (!checked.ok) return checked;
  if (store === undefined) return { ok: false, reason: 'auth_unavailable', detail: 'no key store for the issuer' };
  const found = await store.getKey(jws.kid, jws.alg);
  if (!found.ok) return { ok: false, reason: found.reason, detail: found.reason === 'unknown_kid' ? 'kid not published' : 'no keys' };
  if (!verifySignature(jws.alg, found.key, jws)) return { ok: false, reason: 'bad_signature', detail: 'signature does not verify' };
  return checked;
}

/** Exact `iss` match; else the single issuer configured without `issuer`, if there is one. */
export function selectIssuer(issuers: readonly IssuerConfig[], iss: unknown): IssuerConfig | undefined {
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
  const profile = opts.maxTokenLength === undefined ? ACCESS_TOKEN : { ...ACCESS_TOKEN, maxLength: opts.maxTokenLength };
  const cache = createTokenCache({ max: opts.cacheSize, now });

  async function verify(token: string): Promise<VerifyResult> {
    if (token.length > profile.maxLength) return deny('malformed', 'token too long', tokenFingerprint(token));
    const hit = cache.get(token);
    // A verdict stands only while its key is still published (a key the IdP withdrew, or keys
    // dropped after max_stale, end the cached verdicts made with them).
    if (hit !== undefined && stores.get(hit.token.issuer)?.holds(hit.token.kid) === true) return hit;

    // Hashed once per verdict: a hit carries the fingerprint it was verified with.
    const fingerprint = tokenFingerprint(token);
    const parsed = parseCompact(token, profile);
    if (!parsed.ok) return deny('malformed', parsed.detail, fingerprint);
    const { jws } = parsed;
    const issuer = selectIssuer(issuers, jws.payload.iss);
    if (issuer === undefined) return deny('untrusted_issuer', 'iss matches no issuer', fingerprint);
    const claims = await checkSigned(jws, issuer, stores.get(issuer.name), issuer, now());
    if (!claims.ok) return { ...claims, fingerprint };

    // Cached verdicts are shared between requests: nothing downstream may alter their claims.
    const verified: VerifiedToken = { issuer: issuer.name, claims: jws.payload, exp: claims.exp, kid: jws.kid };
    const verdict: CachedVerdict = deepFreeze({ ok: true, token: verified, cached: true, fingerprint, compact: flatCopy(token) });
    cache.set(verdict);
    return { ok: true, token: verified, cached: false, fingerprint, compact: verdict.compact };
  }

  return { verify, clearCache: () => cache.clear() };
}
