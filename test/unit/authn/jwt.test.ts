import t from 'tap';
import { createJwtAuthenticator } from '../../../src/authn/jwt.js';
import { createKeyStore, createVerifier, tokenFingerprint } from '../../../src/verify/index.js';
import { issuerFor, startJwksServer } from '../../support/jwks-server.js';
import { NOW_MS, NOW_SEC, forge, hmacSigner } from '../../support/tokens.js';

const secret = 's'.repeat(32);
const ISS = 'https://hs.example.com';
// A secret issuer: its key store never fetches; the server only supplies issuerFor's defaults.
const server = await startJwksServer([]);
t.teardown(() => server.close());
const issuer = issuerFor(server, { name: 'hs', issuer: ISS, algorithms: ['HS256'], secret });
const store = createKeyStore(issuer);
const authenticator = createJwtAuthenticator(createVerifier([issuer], new Map([[issuer.name, store]]), { cacheSize: 10, now: () => NOW_MS }), [issuer]);
const token = (claims: Record<string, unknown>): string =>
  forge({ alg: 'HS256', typ: 'JWT' }, { iss: ISS, aud: 'api', exp: NOW_SEC + 300, ...claims }, hmacSigner(secret));

t.test('a verified token: the identity holds the token, and every hit shares one outcome', async (t) => {
  const presented = token({ sub: 'ada', groups: ['g'], realm_access: { roles: ['r'] } });
  const first = await authenticator.authenticate(`Bearer ${presented}`.slice(7));
  t.match(first, { kind: 'identity', cached: false, issuerName: 'hs', fingerprint: tokenFingerprint(presented) });
  if (first.kind !== 'identity') return;
  t.same(
    { user: first.identity.user, groups: first.identity.groups, roles: first.identity.roles, issuer: first.identity.issuer, token: first.identity.token },
    { user: 'ada', groups: ['g'], roles: ['r'], issuer: ISS, token: presented },
  );
  const second = await authenticator.authenticate(presented);
  t.match(second, { kind: 'identity', cached: true, fingerprint: tokenFingerprint(presented) });
  t.equal(second.kind === 'identity' && second.identity, first.identity, 'the identity is mapped once per verdict');
  t.equal(await authenticator.authenticate(`${presented}`), second, 'later hits: the same outcome object');
});

t.test('a verified token without a user is refused, on a miss and on a hit', async (t) => {
  const presented = token({ sub: 'x', preferred_username: 'y' });
  const userless = createJwtAuthenticator(
    createVerifier([{ ...issuer, claims: { ...issuer.claims, user: 'oid' } }], new Map([[issuer.name, store]]), { cacheSize: 10, now: () => NOW_MS }),
    [{ ...issuer, claims: { ...issuer.claims, user: 'oid' } }],
  );
  const expected = { kind: 'denied', reason: 'missing_claim', detail: 'user claim missing', fingerprint: tokenFingerprint(presented) };
  t.same(await userless.authenticate(presented), expected);
  t.same(await userless.authenticate(presented), expected);
});

t.test('no token is not mine; a refusal keeps its reason', async (t) => {
  t.same(await authenticator.authenticate(undefined), { kind: 'none' });
  const expired = token({ sub: 'ada', exp: NOW_SEC - 3600 });
  t.same(await authenticator.authenticate(expired), { kind: 'denied', reason: 'expired', detail: 'exp passed', fingerprint: tokenFingerprint(expired) });
});
