import t from 'tap';
import { checkPassword, DEMO_USERS, findUserById, keycloakClaims, profileClaims } from '../../../src/dev/users.js';

t.test('checkPassword accepts only the exact username and password', async (t) => {
  const rows = [
    { description: 'alice with her password', username: 'alice', password: 'alice-password', expected: 'alice' },
    { description: 'admin with his password', username: 'admin', password: 'admin-password', expected: 'admin' },
    { description: 'wrong password', username: 'alice', password: 'alice-password ', expected: undefined },
    { description: 'empty password', username: 'bob', password: '', expected: undefined },
    { description: 'another user\'s password', username: 'bob', password: 'alice-password', expected: undefined },
    { description: 'unknown user', username: 'eve', password: 'eve-password', expected: undefined },
    { description: 'username is case-sensitive', username: 'ALICE', password: 'alice-password', expected: undefined },
  ];
  for (const row of rows) {
    t.equal(checkPassword(DEMO_USERS, row.username, row.password)?.username, row.expected, row.description);
  }
});

t.test('demo users have distinct ids and usernames', async (t) => {
  t.same(DEMO_USERS.map((u) => u.username), ['alice', 'bob', 'admin']);
  t.equal(new Set(DEMO_USERS.map((u) => u.id)).size, DEMO_USERS.length);
  t.ok(Object.isFrozen(DEMO_USERS), 'the list cannot be changed at run time');
  t.equal(findUserById(DEMO_USERS, DEMO_USERS[1]!.id)?.username, 'bob');
  t.equal(findUserById(DEMO_USERS, 'nope'), undefined);
});

t.test('claims are shaped like Keycloak\'s', async (t) => {
  const alice = DEMO_USERS[0]!;
  t.same(keycloakClaims(alice, 'portcullis'), {
    preferred_username: 'alice',
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Analyst',
    realm_access: { roles: ['analyst', 'user'] },
    resource_access: { portcullis: { roles: ['reports:read'] } },
    groups: ['/acme/data'],
    azp: 'portcullis',
  });
  t.notOk('azp' in keycloakClaims(alice, undefined), 'no azp without a client');
  const claims = keycloakClaims(alice, 'portcullis') as { realm_access: { roles: string[] } };
  claims.realm_access.roles.push('admin');
  t.same(alice.realmRoles, ['analyst', 'user'], 'claims are copies, not the user\'s own arrays');
  t.same(profileClaims(alice), { sub: alice.id, name: 'Alice Analyst', preferred_username: 'alice', email: 'alice@example.com', email_verified: true });
});
