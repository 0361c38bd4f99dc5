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
  // A cached verdict is the same object on every hit: its identity is mapped once.
  const identities = new WeakMap<VerifiedToken, Identity>();
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
      let identity = identities.get(result.token);
      if (identity === undefined) {
        const issuer = byName.get(result.token.issuer);
        if (!issuer) return { kind: 'denied', reason: 'untrusted_issuer', fingerprint };
        const iss = typeof result.token.claims.iss === 'string' ? result.token.claims.iss : issuer.issuer;
        identity = identityFromClaims(result.token.claims, issuer.claims, iss, token);
        identities.set(result.token, identity);
      }
      if (identity.user === '') return { kind: 'denied', reason: 'missing_claim', fingerprint, detail: 'user claim missing' };
      return { kind: 'identity', identity, fingerprint, cached: result.cached, issuerName: result.token.issuer };
    },
  };
}
