import t from 'tap';
import type { RouteConfig, RouteRequire } from '../../../src/config/types.js';
import type { Identity } from '../../../src/identity/types.js';
import { authorize, trustsIssuer } from '../../../src/authz/require.js';

const base: Identity = {
  user: 'u1',
  groups: ['/acme/data/team', 'admins'],
  roles: ['analyst', 'reader'],
  claims: {
    sub: 'u1',
    scope: 'openid query:read  profile',
    org: 'acme',
    level: 3,
    verified: true,
    tenants: ['t1', 't2'],
    nil: null,
    nested: { tier: 'gold' },
    resource_access: { api: { roles: ['x'] }, web: { roles: ['y'] } },
  },
};

function req(partial: Partial<RouteRequire>): RouteRequire {
  return { roles: [], groups: [], scopes: [], claims: {}, ...partial };
}

function withClaims(claims: Record<string, unknown>): Identity {
  return { ...base, claims };
}

const rows: { desc: string; identity?: Identity; require: RouteRequire | undefined; fail?: string }[] = [
  { desc: 'no require block allows', require: undefined },
  { desc: 'empty require block allows', require: req({}) },
  // roles: any of
  { desc: 'one of the roles is held', require: req({ roles: ['admin', 'analyst'] }) },
  { desc: 'none of the roles is held', require: req({ roles: ['admin', 'owner'] }), fail: 'missing role' },
  { desc: 'role match is case-sensitive', require: req({ roles: ['Analyst'] }), fail: 'missing role' },
  { desc: 'identity without roles fails a role check', identity: { ...base, roles: [] }, require: req({ roles: ['analyst'] }), fail: 'missing role' },
  // groups: any of, with Keycloak parent paths
  { desc: 'exact group path', require: req({ groups: ['/acme/data/team'] }) },
  { desc: 'plain group name', require: req({ groups: ['admins'] }) },
  { desc: 'parent path is implied by a sub-group', require: req({ groups: ['/acme/data'] }) },
  { desc: 'root-most parent is implied too', require: req({ groups: ['/acme'] }) },
  { desc: 'sibling prefix is not a parent', require: req({ groups: ['/acme/dat'] }), fail: 'missing group' },
  { desc: 'child path is not implied by a parent membership', require: req({ groups: ['/acme/data/team/x'] }), fail: 'missing group' },
  { desc: 'plain names are not hierarchical', identity: { ...base, groups: ['admins/sub'] }, require: req({ groups: ['admins'] }), fail: 'missing group' },
  { desc: 'trailing slash in a required path matches exactly only', require: req({ groups: ['/acme/'] }), fail: 'missing group' },
  { desc: 'none of the groups is held', require: req({ groups: ['/other'] }), fail: 'missing group' },
  // scopes: all of
  { desc: 'all scopes present in scope', require: req({ scopes: ['openid', 'query:read'] }) },
  { desc: 'one scope missing', require: req({ scopes: ['query:read', 'query:write'] }), fail: 'missing scope' },
  { desc: 'scope is not matched as a substring', require: req({ scopes: ['query'] }), fail: 'missing scope' },
  { desc: 'scp array grants scopes', identity: withClaims({ scp: ['a', 'b', 7] }), require: req({ scopes: ['a', 'b'] }) },
  { desc: 'scp string grants scopes', identity: withClaims({ scp: 'a b' }), require: req({ scopes: ['b'] }) },
  { desc: 'scope and scp are combined', identity: withClaims({ scope: 'a', scp: ['b'] }), require: req({ scopes: ['a', 'b'] }) },
  { desc: 'no scope claim at all', identity: withClaims({}), require: req({ scopes: ['a'] }), fail: 'missing scope' },
  { desc: 'non-string scope claim grants nothing', identity: withClaims({ scope: { a: true } }), require: req({ scopes: ['a'] }), fail: 'missing scope' },
  { desc: 'scope is split on spaces only', identity: withClaims({ scope: 'a\tb' }), require: req({ scopes: ['a'] }), fail: 'missing scope' },
  { desc: 'inherited scope is not read', identity: withClaims(Object.create({ scope: 'a' }) as Record<string, unknown>), require: req({ scopes: ['a'] }), fail: 'missing scope' },
  // claims: exact match
  { desc: 'string claim equals', require: req({ claims: { org: 'acme' } }) },
  { desc: 'string claim differs', require: req({ claims: { org: 'evil' } }), fail: 'claim mismatch at org' },
  { desc: 'number claim equals', require: req({ claims: { level: 3 } }) },
  { desc: 'no coercion between number and string', require: req({ claims: { level: '3' } }), fail: 'claim mismatch at level' },
  { desc: 'boolean claim equals', require: req({ claims: { verified: true } }) },
  { desc: 'null claim equals null', require: req({ claims: { nil: null } }) },
  { desc: 'missing claim does not equal null', require: req({ claims: { absent: null } }), fail: 'claim mismatch at absent' },
  { desc: 'array claim contains the value', require: req({ claims: { tenants: 't2' } }) },
  { desc: 'array claim lacks the value', require: req({ claims: { tenants: 't3' } }), fail: 'claim mismatch at tenants' },
  { desc: 'configured list means one of', require: req({ claims: { org: ['other', 'acme'] } }) },
  { desc: 'configured list with no hit', require: req({ claims: { org: ['other', 'evil'] } }), fail: 'claim mismatch at org' },
  { desc: 'configured list against array claim', require: req({ claims: { tenants: ['t9', 't1'] } }) },
  { desc: 'dotted claim path', require: req({ claims: { 'nested.tier': 'gold' } }) },
  { desc: 'wildcard claim path contains', require: req({ claims: { 'resource_access.*.roles': 'y' } }) },
  { desc: 'configured object never matches', require: req({ claims: { nested: { tier: 'gold' } } }), fail: 'claim mismatch at nested' },
  { desc: 'all claims must hold', require: req({ claims: { org: 'acme', level: 4 } }), fail: 'claim mismatch at level' },
  // combinations
  { desc: 'every kind holds', require: req({ roles: ['analyst'], groups: ['/acme'], scopes: ['openid'], claims: { org: 'acme' } }) },
  { desc: 'roles checked before groups', require: req({ roles: ['admin'], groups: ['/x'] }), fail: 'missing role' },
  { desc: 'groups fail while roles hold', require: req({ roles: ['analyst'], groups: ['/x'] }), fail: 'missing group' },
  { desc: 'claims fail while the rest hold', require: req({ roles: ['analyst'], scopes: ['openid'], claims: { org: 'x' } }), fail: 'claim mismatch at org' },
];

/** The requirement a row's failure detail names: the audit `requirement`. */
function requirementOf(fail: string): string {
  const kinds: Record<string, string> = { 'missing role': 'roles', 'missing group': 'groups', 'missing scope': 'scopes', 'email not verified': 'email_verified' };
  return kinds[fail] ?? 'claims';
}

function claimOf(fail: string): string | undefined {
  return /^claim mismatch at (.+)$/.exec(fail)?.[1];
}

void t.test('authorize', (t) => {
  for (const row of rows) {
    const result = authorize(row.identity ?? base, row.require);
    if (row.fail === undefined) t.same(result, { ok: true }, row.desc);
    else t.same(result, { ok: false, reason: 'insufficient_scope', requirement: requirementOf(row.fail), detail: row.fail, ...(claimOf(row.fail) ? { claim: claimOf(row.fail) } : {}) }, row.desc);
  }
  t.end();
});

void t.test('a denial detail never holds the claim value', (t) => {
  const identity = withClaims({ org: 'secret-org-value', scope: 'secret-scope' });
  for (const require of [req({ claims: { org: 'acme' } }), req({ scopes: ['x'] }), req({ roles: ['x'] })]) {
    const result = authorize(identity, require);
    t.equal(result.ok, false, 'denied');
    if (!result.ok) t.notMatch(result.detail, /secret/, `detail "${result.detail}" has no claim value`);
  }
  t.end();
});

t.test('email_verified and route issuers', async (t) => {
  const need = req({ emailVerified: true });
  t.same(authorize(withClaims({ email_verified: true }), need), { ok: true });
  t.same(authorize(withClaims({ email_verified: 'true' }), need), { ok: true }, 'the string form some IdPs send');
  for (const value of [false, 'false', undefined, 1, 'yes']) {
    t.same(authorize(withClaims({ email_verified: value }), need), { ok: false, reason: 'insufficient_scope', requirement: 'email_verified', detail: 'email not verified' }, String(value));
  }
  const route = (issuers?: string[]) => ({ issuers }) as unknown as RouteConfig;
  t.ok(trustsIssuer(route(), 'staff'), 'no list: every issuer');
  t.ok(trustsIssuer(route(['staff']), 'staff'));
  t.notOk(trustsIssuer(route(['staff']), 'customers'));
  t.notOk(trustsIssuer(route(['staff']), undefined), 'a plug-in identity has no configured issuer');
});
