/**
 * Claim paths -> Identity (docs/configuration.md `issuers[].claims`).
 *
 * Enforces:
 * - claims are read only through own properties (`Object.hasOwn`): a path never walks into a
 *   prototype, so `constructor`, `toString` or `__proto__` resolve to a value only when the
 *   token itself carries such a key;
 * - odd claim shapes (null, numbers, nested arrays, objects where strings are expected) never
 *   throw: they resolve to `undefined` or are dropped from string lists;
 * - roles are the de-duplicated union of every configured roles path, in order of first
 *   appearance (Keycloak `realm_access.roles` plus `resource_access.*.roles`);
 * - the email is left out when the token says `email_verified: false` (or `"false"`): an
 *   address nobody proved is never handed on as the user's;
 * - a user claim that is missing, not a string or empty gives `user: ''`, which every caller
 *   refuses (`missing_claim`): no request passes without a user.
 */
import type { ClaimPaths } from '../config/types.js';
import { isObject } from '../util/object.js';
import type { Identity } from './types.js';

type ClaimObject = Readonly<Record<string, unknown>>;

function walk(value: unknown, segments: readonly string[], index: number): unknown {
  if (index === segments.length) return value;
  if (!isObject(value)) return undefined;
  const segment = segments[index] as string;
  if (segment === '*') {
    const found: unknown[] = [];
    for (const child of Object.values(value)) {
      const hit = walk(child, segments, index + 1);
      if (hit === undefined) continue;
      // Flatten one level, so `resource_access.*.roles` is one list of role names.
      if (Array.isArray(hit)) found.push(...(hit as unknown[]));
      else found.push(hit);
    }
    return found;
  }
  return Object.hasOwn(value, segment) ? walk(value[segment], segments, index + 1) : undefined;
}

/**
 * The value at a dotted claim path, or `undefined`. A top-level key that itself contains dots
 * (a namespaced claim such as `https://example.com/roles`) is matched whole first. A `*` segment
 * fans out over the values of an object and returns the array of everything found below it,
 * arrays flattened one level (an empty array when nothing is found).
 */
export function claimAt(claims: ClaimObject, path: string): unknown {
  if (path.includes('.') && Object.hasOwn(claims, path)) return claims[path];
  return walk(claims, path.split('.'), 0);
}

function stringAt(claims: ClaimObject, path: string): string | undefined {
  const value = claimAt(claims, path);
  return typeof value === 'string' ? value : undefined;
}

/** A string, or the strings of an array; everything else is dropped. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  return (value as unknown[]).filter((item): item is string => typeof item === 'string');
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/** `email_verified` as a boolean; some IdPs (Cognito) send it as a string. */
export function emailVerified(claims: ClaimObject): boolean | undefined {
  const value = Object.hasOwn(claims, 'email_verified') ? claims.email_verified : undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

/** Builds the identity from verified claims; `user` is `''` when the user claim is unusable. */
export function identityFromClaims(
  claims: ClaimObject,
  paths: ClaimPaths,
  issuer: string | undefined,
  token?: string,
): Identity {
  const exp = Object.hasOwn(claims, 'exp') ? claims.exp : undefined;
  return {
    user: stringAt(claims, paths.user) ?? '',
    email: emailVerified(claims) === false ? undefined : stringAt(claims, paths.email),
    username: stringAt(claims, paths.username),
    groups: unique(stringsOf(claimAt(claims, paths.groups))),
    roles: unique(paths.roles.flatMap((path) => stringsOf(claimAt(claims, path)))),
    issuer,
    claims,
    token,
    exp: typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined,
  };
}
