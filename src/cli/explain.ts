/**
 * What `portcullis verify` says about a denial: the claim that was found next to what the
 * config expects (`aud: ["account"], expected one of ["api"]`), in one line. Only for the
 * operator's terminal: it quotes the token's claims (never the token) and configured values,
 * which is why the server's denials (audit, error bodies) never carry it.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { RuntimeConfig, RouteConfig } from '../config/types.js';
import { grantedScopes } from '../authz/require.js';
import type { Requirement } from '../authz/require.js';
import { claimAt, emailVerified } from '../identity/claims.js';
import type { Identity } from '../identity/types.js';
import { REASONS } from '../errors.js';
import type { Reason } from '../errors.js';
import { selectIssuer } from '../verify/verifier.js';

export interface Denial {
  readonly reason: Reason;
  readonly requirement?: Requirement;
  /** The configured claim path of a `claims` failure. */
  readonly claim?: string;
  readonly route?: RouteConfig;
  readonly identity?: Identity;
  readonly allow?: readonly string[];
  /** Why each issuer's keys could not be loaded, by issuer name. */
  readonly keyFailures: ReadonlyMap<string, string>;
  /** The verifier's fixed-text detail. */
  readonly detail?: string;
}

const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

function unverified(token: string): { claims: Record<string, unknown>; header: Record<string, unknown> } {
  const read = <T>(f: () => T, empty: T): T => {
    try {
      return f();
    } catch {
      return empty;
    }
  };
  return { claims: read(() => decodeJwt(token), {}), header: read(() => decodeProtectedHeader(token), {}) };
}

function time(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? `${seconds} (${new Date(seconds * 1000).toISOString()})` : show(seconds);
}

function requirementDetail(d: Denial, issuerName: string | undefined): string | undefined {
  const need = d.route?.require;
  const id = d.identity;
  if (id === undefined) return undefined;
  switch (d.requirement) {
    case 'roles':
      return `roles: ${show(id.roles)}, expected one of ${show(need?.roles)}`;
    case 'groups':
      return `groups: ${show(id.groups)}, expected one of ${show(need?.groups)}`;
    case 'scopes':
      return `scopes: ${show([...grantedScopes(id.claims)])}, expected all of ${show(need?.scopes)}`;
    case 'claims': {
      const expected = d.claim === undefined ? undefined : need?.claims[d.claim];
      const want = Array.isArray(expected) ? `one of ${show(expected)}` : show(expected);
      return `${d.claim ?? 'claim'}: ${show(d.claim === undefined ? undefined : claimAt(id.claims, d.claim))}, expected ${want}`;
    }
    case 'email_verified':
      return `email_verified: ${show(emailVerified(id.claims) ?? id.claims.email_verified)}, expected true`;
    case 'issuer':
      return `issuer: ${show(issuerName ?? null)}, expected one of ${show(d.route?.issuers)}`;
    default:
      return undefined;
  }
}

/** One line: what was found and what was expected, or the reason's description. */
export function explainDenial(token: string, config: RuntimeConfig, d: Denial): string {
  const { claims, header } = unverified(token);
  const issuer = selectIssuer(config.issuers, claims.iss);
  const now = Math.floor(Date.now() / 1000);
  switch (d.reason) {
    case 'bad_audience':
      return `aud: ${show(list(claims.aud))}, expected one of ${show(issuer?.audiences ?? [])}`;
    case 'untrusted_issuer':
      if (d.requirement === 'issuer') return requirementDetail(d, issuer?.name) ?? REASONS[d.reason].description;
      return `iss: ${show(claims.iss)}, expected one of ${show(config.issuers.flatMap((i) => (i.issuer === undefined ? [] : [i.issuer])))}`;
    case 'expired':
      return `exp: ${time(claims.exp)}, now ${time(now)}, clock skew ${issuer?.clockSkewSec ?? 0}s`;
    case 'not_before':
      return `nbf: ${time(claims.nbf)}, now ${time(now)}, clock skew ${issuer?.clockSkewSec ?? 0}s`;
    case 'issued_in_future':
      return `iat: ${time(claims.iat)}, now ${time(now)}, clock skew ${issuer?.clockSkewSec ?? 0}s`;
    case 'alg_not_allowed':
      return `alg: ${show(header.alg)}, expected one of ${show(issuer?.algorithms ?? [])}`;
    case 'unknown_kid':
      return `kid: ${show(header.kid)}, not published by issuer ${show(issuer?.name)}`;
    case 'bad_signature':
      return `the signature does not verify with the key ${show(header.kid)} of issuer ${show(issuer?.name)}`;
    case 'auth_unavailable': {
      const name = issuer?.name;
      const why = name === undefined ? undefined : d.keyFailures.get(name);
      return `keys of issuer ${show(name)} could not be loaded${why === undefined ? '' : ` (${why})`}; check that the IdP is reachable`;
    }
    case 'insufficient_scope':
      return requirementDetail(d, issuer?.name) ?? REASONS[d.reason].description;
    case 'method_not_allowed':
      return `method not accepted on this path; allowed: ${(d.allow ?? []).join(', ')}`;
    case 'missing_claim':
    case 'malformed':
      return d.detail ?? REASONS[d.reason].description;
    default:
      return REASONS[d.reason].description;
  }
}
