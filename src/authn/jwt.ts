/**
 * The built-in JWT authenticator: verifies the extracted bearer token (header, cookie or query)
 * against the issuer its `iss` names and maps the verified claims to an Identity. It never
 * sees other credentials; "no token" is "not mine", so later authenticators may still answer.
 */
import type { IssuerConfig } from '../config/types.js';
import type { TokenReason } from '../errors.js';
import { identityFromClaims } from '../identity/claims.js';
import type { Identity } from '../identity/types.js';
import type { Verifier } from '../verify/index.js';
import type { VerifiedToken } from '../verify/types.js';

export type JwtOutcome =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'identity';
      readonly identity: Identity;
      readonly fingerprint: string;
      readonly cached: boolean;
      /** Name of the configured issuer that verified the token. */
      readonly issuerName: string;
    }
  | { readonly kind: 'denied'; readonly reason: TokenReason; readonly fingerprint: string; readonly detail?: string };

export interface JwtAuthenticator {
  /** `token`: the presented bearer token, or undefined when none was presented. */
  authenticate(token: string | undefined): Promise<JwtOutcome>;
}

export function createJwtAuthenticator(verifier: Verifier, issuers: readonly IssuerConfig[]): JwtAuthenticator {
  const byName = new Map(issuers.map((i) => [i.name, i]));
  // A cached verdict is the same object on every hit: its outcome (identity mapped from the
  // claims, or the refusal of a token without a user) is built once and shared by its hits.
  const outcomes = new WeakMap<VerifiedToken, Exclude<JwtOutcome, { kind: 'none' }>>();
  return {
    async authenticate(token) {
      if (token === undefined) return { kind: 'none' };
      const result = await verifier.verify(token);
      const { fingerprint } = result;
      if (!result.ok) {
        return result.detail === undefined
          ? { kind: 'denied', reason: result.reason, fingerprint }
          : { kind: 'denied', reason: result.reason, fingerprint, detail: result.detail };
      }
      let outcome = outcomes.get(result.token);
      if (outcome === undefined) {
        const issuer = byName.get(result.token.issuer);
        if (!issuer) return { kind: 'denied', reason: 'untrusted_issuer', fingerprint };
        const iss = typeof result.token.claims.iss === 'string' ? result.token.claims.iss : issuer.issuer;
        // `compact`, not `token`: the request's string may be a slice that keeps its header alive.
        const identity = identityFromClaims(result.token.claims, issuer.claims, iss, result.compact);
        outcome =
          identity.user === ''
            ? { kind: 'denied', reason: 'missing_claim', fingerprint, detail: 'user claim missing' }
            : { kind: 'identity', identity, fingerprint, cached: true, issuerName: result.token.issuer };
        outcomes.set(result.token, outcome);
      }
      return outcome.kind === 'identity' && !result.cached ? { ...outcome, cached: false } : outcome;
    },
  };
}
