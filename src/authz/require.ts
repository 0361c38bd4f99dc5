/**
 * Route authorization (docs/configuration.md `routes[].require`): every listed kind must hold.
 *
 * Enforces:
 * - roles: any of the listed roles (an empty list is no check);
 * - groups: any of the listed groups, exact, or a Keycloak sub-group of a listed group path;
 * - scopes: all of the listed scopes, granted by `scope` or `scp` (space-separated string or
 *   array of strings);
 * - claims: each dotted path equals the configured scalar (strict, no type coercion: the claim
 *   `"1"` is not the number `1`); an array claim must contain it; a configured array means
 *   "one of these". Objects never match, so an unexpected config shape fails closed.
 * - email_verified: with `email_verified: true`, the token must say its email is verified;
 * - issuers (`routes[].issuers`, checked by `trustsIssuer`): only tokens verified by a listed
 *   issuer; an identity from a plug-in has no configured issuer and is refused there.
 * A denial is a value naming the failed kind (`requirement`: roles, groups, scopes, claims,
 * email_verified; the route issuer check is `issuer`) and, for claims, the configured path;
 * it never holds a claim value.
 */
import type { RouteConfig, RouteRequire } from '../config/types.js';
import type { Identity } from '../identity/types.js';
import { claimAt, emailVerified } from '../identity/claims.js';

/** The `require` kind a 403 failed (the audit `requirement`); `issuer` is `routes[].issuers`. */
export type Requirement = 'roles' | 'groups' | 'scopes' | 'claims' | 'email_verified' | 'issuer';

export type AuthzResult =
  | { ok: true }
  | {
      ok: false;
      reason: 'insufficient_scope';
      requirement: Exclude<Requirement, 'issuer'>;
      detail: string;
      /** The configured claim path, for a `claims` failure. */
      claim?: string;
    };

type Scalar = string | number | boolean | null;

function anyOf(required: readonly string[], held: (name: string) => boolean): boolean {
  return required.length === 0 || required.some(held);
}

/**
 * Keycloak reports group membership as full paths (`/acme/data/team`). Membership of a child
 * group implies membership of its parents, so a required path `/acme/data` is also satisfied by
 * `/acme/data/team` — but never by `/acme/database` (segment boundaries only). Plain group
 * names (no leading `/`) match exactly.
 */
function inGroup(groups: readonly string[], required: string): boolean {
  const hierarchical = required.startsWith('/') && !required.endsWith('/');
  return groups.some((group) => group === required || (hierarchical && group.startsWith(`${required}/`)));
}

function scopeTokens(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((token) => token !== '');
  if (Array.isArray(value)) return (value as unknown[]).filter((item): item is string => typeof item === 'string');
  return [];
}

export function grantedScopes(claims: Identity['claims']): Set<string> {
  // `scope` is a space-separated string (RFC 8693 §4.2, RFC 9068); Azure AD and Okta use `scp`,
  // as a string or an array. Both claims are read the same way.
  const read = (name: string): string[] => (Object.hasOwn(claims, name) ? scopeTokens(claims[name]) : []);
  return new Set([...read('scope'), ...read('scp')]);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function matchesScalar(actual: unknown, expected: unknown): boolean {
  if (!isScalar(expected)) return false;
  if (Array.isArray(actual)) return (actual as unknown[]).some((item) => item === expected);
  return actual === expected;
}

function claimMatches(actual: unknown, expected: unknown): boolean {
  if (actual === undefined) return false;
  if (Array.isArray(expected)) return (expected as unknown[]).some((option) => matchesScalar(actual, option));
  return matchesScalar(actual, expected);
}

function deny(requirement: Exclude<Requirement, 'issuer'>, detail: string, claim?: string): AuthzResult {
  return claim === undefined
    ? { ok: false, reason: 'insufficient_scope', requirement, detail }
    : { ok: false, reason: 'insufficient_scope', requirement, detail, claim };
}

/** Checks a route's `require` block against an identity; `undefined` means no requirement. */
export function authorize(identity: Identity, require: RouteRequire | undefined): AuthzResult {
  if (require === undefined) return { ok: true };
  if (!anyOf(require.roles, (role) => identity.roles.includes(role))) return deny('roles', 'missing role');
  if (!anyOf(require.groups, (group) => inGroup(identity.groups, group))) return deny('groups', 'missing group');
  if (require.scopes.length > 0) {
    const granted = grantedScopes(identity.claims);
    if (!require.scopes.every((scope) => granted.has(scope))) return deny('scopes', 'missing scope');
  }
  for (const [path, expected] of Object.entries(require.claims)) {
    if (!claimMatches(claimAt(identity.claims, path), expected)) return deny('claims', `claim mismatch at ${path}`, path);
  }
  if (require.emailVerified === true && emailVerified(identity.claims) !== true) return deny('email_verified', 'email not verified');
  return { ok: true };
}

/** Whether a route takes identities of this configured issuer (undefined: not from an issuer). */
export function trustsIssuer(route: RouteConfig, issuerName: string | undefined): boolean {
  return route.issuers === undefined || (issuerName !== undefined && route.issuers.includes(issuerName));
}
