import t from 'tap';
import type { ClaimPaths } from '../../../src/config/types.js';
import { claimAt, identityFromClaims } from '../../../src/identity/claims.js';

const KEYCLOAK: ClaimPaths = {
  user: 'sub',
  email: 'email',
  username: 'preferred_username',
  groups: 'groups',
  roles: ['realm_access.roles', 'resource_access.*.roles'],
};

/** JSON.parse gives own `__proto__` keys, as a decoded JWT payload would. */
const hostile = JSON.parse('{"__proto__": {"roles": ["admin"]}, "a": {"__proto__": "x"}}') as Record<string, unknown>;

const claimRows: { desc: string; claims: Record<string, unknown>; path: string; want: unknown }[] = [
  { desc: 'top-level string', claims: { sub: 'u1' }, path: 'sub', want: 'u1' },
  { desc: 'nested path', claims: { realm_access: { roles: ['a', 'b'] } }, path: 'realm_access.roles', want: ['a', 'b'] },
  { desc: 'missing top-level key', claims: {}, path: 'email', want: undefined },
  { desc: 'missing nested key', claims: { a: { b: 1 } }, path: 'a.c', want: undefined },
  { desc: 'walking through null', claims: { a: null }, path: 'a.b', want: undefined },
  { desc: 'walking through a number', claims: { a: 5 }, path: 'a.b', want: undefined },
  { desc: 'walking through a string', claims: { a: 'abc' }, path: 'a.length', want: undefined },
  { desc: 'walking through an array', claims: { a: [{ b: 1 }] }, path: 'a.0.b', want: undefined },
  { desc: 'null value is returned as is', claims: { a: null }, path: 'a', want: null },
  { desc: 'prototype key constructor is not walked', claims: { a: {} }, path: 'a.constructor', want: undefined },
  { desc: 'prototype key toString is not walked', claims: {}, path: 'toString', want: undefined },
  { desc: 'inherited __proto__ is not walked', claims: { a: {} }, path: 'a.__proto__', want: undefined },
  { desc: 'own __proto__ key is read as data', claims: hostile, path: 'a.__proto__', want: 'x' },
  { desc: 'own __proto__ object is read as data', claims: hostile, path: '__proto__.roles', want: ['admin'] },
  {
    desc: 'namespaced top-level key with dots is matched whole',
    claims: { 'https://example.com/roles': ['r'] },
    path: 'https://example.com/roles',
    want: ['r'],
  },
  {
    desc: 'wildcard fans out over object values and flattens arrays one level',
    claims: { resource_access: { api: { roles: ['read'] }, web: { roles: ['write', ['nested']] } } },
    path: 'resource_access.*.roles',
    want: ['read', 'write', ['nested']],
  },
  {
    desc: 'wildcard keeps scalar hits and skips misses',
    claims: { ra: { api: { roles: 'solo' }, web: {}, x: null, y: 3 } },
    path: 'ra.*.roles',
    want: ['solo'],
  },
  { desc: 'wildcard over an empty object is an empty list', claims: { ra: {} }, path: 'ra.*.roles', want: [] },
  { desc: 'wildcard over an array finds nothing', claims: { ra: [{ roles: ['a'] }] }, path: 'ra.*.roles', want: undefined },
  { desc: 'wildcard over a missing key finds nothing', claims: {}, path: 'ra.*.roles', want: undefined },
  { desc: 'trailing wildcard returns the values', claims: { o: { a: 1, b: [2, 3] } }, path: 'o.*', want: [1, 2, 3] },
  { desc: 'null-prototype objects are walked', claims: Object.assign(Object.create(null) as object, { a: { b: 2 } }), path: 'a.b', want: 2 },
];

void t.test('claimAt', (t) => {
  for (const row of claimRows) t.same(claimAt(row.claims, row.path), row.want, row.desc);
  t.end();
});

const identityRows: {
  desc: string;
  claims: Record<string, unknown>;
  paths?: ClaimPaths;
  check: Record<string, unknown>;
}[] = [
  {
    desc: 'Keycloak token maps to a full identity',
    claims: {
      sub: 'u1',
      email: 'ada@example.com',
      preferred_username: 'ada',
      groups: ['/acme/data'],
      realm_access: { roles: ['analyst', 'offline_access'] },
      resource_access: { api: { roles: ['reader', 'analyst'] }, account: { roles: ['manage-account'] } },
      exp: 1700000000,
    },
    check: {
      user: 'u1',
      email: 'ada@example.com',
      username: 'ada',
      groups: ['/acme/data'],
      roles: ['analyst', 'offline_access', 'reader', 'manage-account'],
      exp: 1700000000,
    },
  },
  {
    desc: 'a single group string becomes a one-entry list',
    claims: { sub: 'u', groups: 'admins' },
    check: { groups: ['admins'] },
  },
  {
    desc: 'non-string groups and roles are dropped',
    claims: { sub: 'u', groups: ['g', 1, null, { a: 1 }, ['h']], realm_access: { roles: [true, 'r', 2] } },
    check: { groups: ['g'], roles: ['r'] },
  },
  {
    desc: 'duplicate groups are listed once',
    claims: { sub: 'u', groups: ['g', 'g', 'h'] },
    check: { groups: ['g', 'h'] },
  },
  {
    desc: 'odd shapes give empty lists and no optional fields',
    claims: { sub: 'u', email: 5, preferred_username: null, groups: { a: 'b' }, realm_access: 'admin', resource_access: null },
    check: { email: undefined, username: undefined, groups: [], roles: [] },
  },
  {
    desc: 'a roles path holding a single string counts as one role',
    claims: { sub: 'u', realm_access: { roles: 'admin' } },
    check: { roles: ['admin'] },
  },
  {
    desc: 'non-string user claim yields an empty user',
    claims: { sub: 42 },
    check: { user: '' },
  },
  { desc: 'non-finite exp is dropped', claims: { sub: 'u', exp: Number.POSITIVE_INFINITY }, check: { exp: undefined } },
  { desc: 'string exp is dropped', claims: { sub: 'u', exp: '1700000000' }, check: { exp: undefined } },
  {
    desc: 'hostile __proto__ keys grant no roles through the prototype',
    claims: { sub: 'u', ...hostile },
    check: { roles: [], groups: [] },
  },
  {
    desc: 'a roles path into the prototype (constructor.name) finds nothing',
    claims: { sub: 'u' },
    paths: { ...KEYCLOAK, roles: ['constructor.name', 'toString'] },
    check: { roles: [] },
  },
  {
    desc: 'custom claim paths are honoured',
    claims: { oid: 'o1', upn: 'ada@corp', name: 'Ada', wids: ['w'], app: { roles: ['x'] } },
    paths: { user: 'oid', email: 'upn', username: 'name', groups: 'wids', roles: ['app.roles'] },
    check: { user: 'o1', email: 'ada@corp', username: 'Ada', groups: ['w'], roles: ['x'] },
  },
];

void t.test('identityFromClaims', (t) => {
  for (const row of identityRows) {
    const identity = identityFromClaims(row.claims, row.paths ?? KEYCLOAK, 'https://kc/realms/acme');
    for (const [field, want] of Object.entries(row.check)) {
      t.same((identity as unknown as Record<string, unknown>)[field], want, `${row.desc}: ${field}`);
    }
  }
  t.end();
});

void t.test('identityFromClaims keeps issuer, claims and token', (t) => {
  const claims = { sub: 'u' };
  const identity = identityFromClaims(claims, KEYCLOAK, 'https://kc/realms/acme', 'tok.en.x');
  t.equal(identity.issuer, 'https://kc/realms/acme', 'issuer is passed through');
  t.equal(identity.claims, claims, 'claims are the verified claims object');
  t.equal(identity.token, 'tok.en.x', 'token is kept for forwarding');
  t.equal(identityFromClaims(claims, KEYCLOAK, undefined).token, undefined, 'no token when none given');
  t.end();
});

t.test('an email the token says is unverified is left out; an unusable user claim is empty', async (t) => {
  const id = (claims: Record<string, unknown>) => identityFromClaims({ sub: 's', email: 'a@b.c', ...claims }, KEYCLOAK, undefined);
  t.equal(id({ email_verified: false }).email, undefined);
  t.equal(id({ email_verified: 'false' }).email, undefined);
  t.equal(id({ email_verified: true }).email, 'a@b.c');
  t.equal(id({}).email, 'a@b.c', 'no email_verified claim: kept');
  for (const sub of [undefined, 7, '', ['x']]) t.equal(id({ sub }).user, '', `sub ${JSON.stringify(sub)}`);
});
