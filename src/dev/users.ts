/**
 * Demo users of the development IdP and the checks made on them.
 *
 * Enforces: a password check that compares SHA-256 digests in constant time and spends the
 * same work for an unknown username as for a wrong password, so the two answers cannot be told
 * apart; access-token claims shaped like Keycloak's (realm_access, resource_access, groups).
 * The passwords are demo data that `portcullis dev` prints; never use these users elsewhere.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface DevUser {
  id: string;
  username: string;
  password: string;
  email: string;
  name: string;
  realmRoles: string[];
  /** Client id -> roles, emitted as Keycloak's `resource_access`. */
  clientRoles: Record<string, string[]>;
  /** Keycloak group paths such as `/acme/data`. */
  groups: string[];
}

const demoUsers: DevUser[] = [
  {
    id: 'f3b0c2a4-0000-4000-8000-00000000a11c',
    username: 'alice',
    password: 'alice-password',
    email: 'alice@example.com',
    name: 'Alice Analyst',
    realmRoles: ['analyst', 'user'],
    clientRoles: { portcullis: ['reports:read'] },
    groups: ['/acme/data'],
  },
  {
    id: 'f3b0c2a4-0000-4000-8000-000000000b0b',
    username: 'bob',
    password: 'bob-password',
    email: 'bob@example.com',
    name: 'Bob Seller',
    realmRoles: ['user'],
    clientRoles: {},
    groups: ['/acme/sales'],
  },
  {
    id: 'f3b0c2a4-0000-4000-8000-0000000ad814',
    username: 'admin',
    password: 'admin-password',
    email: 'admin@example.com',
    name: 'Ada Admin',
    realmRoles: ['admin', 'user'],
    clientRoles: { portcullis: ['reports:read', 'reports:write'] },
    groups: ['/acme'],
  },
];

export const DEMO_USERS: readonly DevUser[] = Object.freeze(demoUsers);

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Compared against when the username is unknown, so that path costs the same as a real check. */
const UNKNOWN_USER_DIGEST = digest('\u0000no such user\u0000');

/** The user whose username and password both match, or undefined (same work either way). */
export function checkPassword(users: readonly DevUser[], username: string, password: string): DevUser | undefined {
  const user = users.find((u) => u.username === username);
  const expected = user ? digest(user.password) : UNKNOWN_USER_DIGEST;
  const matches = timingSafeEqual(expected, digest(password));
  return user && matches ? user : undefined;
}

export function findUserById(users: readonly DevUser[], id: string): DevUser | undefined {
  return users.find((u) => u.id === id);
}

/** OpenID claims for ID tokens (scopes `profile` and `email`). */
export function profileClaims(user: DevUser): Record<string, unknown> {
  return {
    sub: user.id,
    name: user.name,
    preferred_username: user.username,
    email: user.email,
    email_verified: true,
  };
}

/** Keycloak-shaped claims added to every access token issued for this user. */
export function keycloakClaims(user: DevUser, clientId: string | undefined): Record<string, unknown> {
  const resourceAccess = Object.fromEntries(
    Object.entries(user.clientRoles).map(([client, roles]) => [client, { roles: [...roles] }]),
  );
  return {
    preferred_username: user.username,
    email: user.email,
    email_verified: true,
    name: user.name,
    realm_access: { roles: [...user.realmRoles] },
    resource_access: resourceAccess,
    groups: [...user.groups],
    ...(clientId === undefined ? {} : { azp: clientId }),
  };
}
