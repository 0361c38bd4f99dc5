import { tokenFingerprint } from '../../../src/verify/token-cache.js';
import t from 'tap';
import fc from 'fast-check';
import { createKeyStore } from '../../../src/verify/key-store.js';
import type { KeyStore } from '../../../src/verify/key-store.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import type { Verifier } from '../../../src/verify/verifier.js';
import type { IssuerConfig } from '../../../src/config/types.js';
import type { TokenReason } from '../../../src/errors.js';
import { issuerFor, startJwksServer } from '../../support/jwks-server.js';
import { ecKey, edKey, randomKid, rsaKey } from '../../support/keys.js';
import { NOW_MS, NOW_SEC, accessClaims, b64url, forge, hmacSigner, mint, rsaSigner } from '../../support/tokens.js';

const FLOOR = 30_000;
const rsaA = rsaKey();
const psA = rsaKey({ alg: 'PS256' });
const ecA = ecKey();
const edA = edKey();
const rsaB = rsaKey();
const attacker = rsaKey();
const hmacSecret = 'k'.repeat(32);

const serverA = await startJwksServer([rsaA.jwk, psA.jwk, ecA.jwk, edA.jwk]);
const serverB = await startJwksServer([rsaB.jwk]);
const clock = { ms: NOW_MS };
const now = (): number => clock.ms;
const jwks = { refreshIntervalMs: 600_000, minRefreshIntervalMs: FLOOR, timeoutMs: 2_000, maxStaleMs: 86_400_000 };
const issuerA = issuerFor(serverA, { name: 'a', algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'], jwks });
const issuerB = issuerFor(serverB, { name: 'b', jwks });
const issuerHs = issuerFor(serverA, { name: 'hs', issuer: 'https://hs.example.com', algorithms: ['HS256'], secret: hmacSecret });
const ISS_A = serverA.url;
const ISS_B = serverB.url;

async function build(issuers: readonly IssuerConfig[], cacheSize = 100): Promise<{ verifier: Verifier; stores: KeyStore[] }> {
  const stores = issuers.map((i) => createKeyStore(i, { now }));
  await Promise.all(stores.map((s) => s.start()));
  t.teardown(() => stores.forEach((s) => s.close()));
  return { verifier: createVerifier(issuers, new Map(stores.map((s) => [s.name, s])), { cacheSize, now }), stores };
}

const { verifier } = await build([issuerA, issuerB, issuerHs]);
t.teardown(() => Promise.all([serverA.close(), serverB.close()]));

const claimsA = (extra: Record<string, unknown> = {}): Record<string, unknown> => accessClaims(ISS_A, extra);
const headerA = { alg: 'RS256', kid: rsaA.kid };
const pem = rsaA.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const pkcs1 = rsaA.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const der = rsaA.publicKey.export({ type: 'spki', format: 'der' });
const hmacWithRsa: { form: string; secret: string | Buffer }[] = [
  { form: 'PEM', secret: pem },
  { form: 'PEM trimmed', secret: pem.trim() },
  { form: 'PEM with CRLF', secret: pem.replace(/\n/g, '\r\n') },
  { form: 'PEM with extra blank lines', secret: `\n${pem}\n\n` },
  { form: 'PKCS#1 PEM', secret: pkcs1 },
  { form: 'DER', secret: der },
  { form: 'JWK JSON', secret: JSON.stringify(rsaA.jwk) },
  { form: 'JWK JSON pretty', secret: JSON.stringify(rsaA.jwk, null, 2) },
  { form: 'JWK n', secret: String(rsaA.jwk.n) },
];

/** Flips unused low bits of the last base64url character: same bytes, non-canonical text. */
function nonCanonical(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.slice(-1));
  return segment.slice(0, -1) + alphabet[last + 1];
}

function replaceSegment(token: string, index: number, segment: string): string {
  const parts = token.split('.');
  parts[index] = segment;
  return parts.join('.');
}

const hostile: { name: string; token: () => string | Promise<string>; reason: TokenReason }[] = [
  { name: 'alg none, empty signature', token: () => forge({ alg: 'none' }, claimsA()), reason: 'alg_not_allowed' },
  { name: 'alg NONE', token: () => forge({ alg: 'NONE', kid: rsaA.kid }, claimsA()), reason: 'alg_not_allowed' },
  { name: 'alg not in the allow-list (RS512)', token: () => mint(rsaKey({ alg: 'RS512', kid: rsaA.kid }), claimsA()), reason: 'alg_not_allowed' },
  { name: 'alg missing', token: () => forge({ kid: rsaA.kid }, claimsA(), rsaSigner(rsaA)), reason: 'malformed' },
  ...hmacWithRsa.map((v) => ({
    name: `HS256 signed with the RSA public key (${v.form})`,
    token: () => forge({ alg: 'HS256', kid: rsaA.kid }, claimsA(), hmacSigner(v.secret)),
    reason: 'alg_not_allowed' as const,
  })),
  { name: 'embedded jwk header', token: () => forge({ ...headerA, jwk: attacker.jwk }, claimsA(), rsaSigner(attacker)), reason: 'malformed' },
  { name: 'jku header', token: () => forge({ ...headerA, jku: serverA.jwksUri }, claimsA(), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'x5u header', token: () => forge({ ...headerA, x5u: `${serverA.url}/cert` }, claimsA(), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'x5c header', token: () => forge({ ...headerA, x5c: ['MIIB'] }, claimsA(), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'crit header', token: () => forge({ ...headerA, crit: ['exp'], exp: 1 }, claimsA(), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'header typ JOSE', token: () => mint(rsaA, claimsA(), { typ: 'JOSE' }), reason: 'malformed' },
  { name: 'kid not a string', token: () => forge({ alg: 'RS256', kid: 7 }, claimsA(), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'JWE (5 segments)', token: () => `${b64url('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.a.b.c.d`, reason: 'malformed' },
  { name: 'two segments', token: async () => (await mint(rsaA, claimsA())).split('.').slice(0, 2).join('.'), reason: 'malformed' },
  { name: 'over 8 KiB', token: () => mint(rsaA, claimsA({ pad: 'x'.repeat(8192) })), reason: 'malformed' },
  { name: 'base64 with + and /', token: async () => (await mint(rsaA, claimsA())).replace(/^e/, '+/'), reason: 'malformed' },
  { name: 'base64 with padding', token: async () => replaceSegment(await mint(rsaA, claimsA({ p: 'ab' })), 1, `${b64url(JSON.stringify(claimsA({ p: 'ab' })))}==`), reason: 'malformed' },
  {
    name: 'non-canonical base64url (unused bits set)',
    token: () => {
      // A payload of 3n+1 bytes ends in a 2-character group carrying 4 unused bits.
      const pad = ['', 'a', 'aa'].find((p) => JSON.stringify(claimsA({ p })).length % 3 === 1) ?? '';
      const token = forge(headerA, claimsA({ p: pad }), rsaSigner(rsaA));
      return replaceSegment(token, 1, nonCanonical(token.split('.')[1]!));
    },
    reason: 'malformed',
  },
  { name: 'header repeats alg (none first)', token: () => forge(`{"alg":"none","alg":"RS256","kid":"${rsaA.kid}"}`, claimsA(), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'payload repeats sub', token: () => forge(headerA, JSON.stringify(claimsA()).replace('{', '{"sub":"admin",'), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'payload repeats sub in an escaped spelling', token: () => forge(headerA, JSON.stringify(claimsA()).replace('{', '{"s\\u0075b":"admin",'), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'payload repeats a nested member', token: () => forge(headerA, JSON.stringify(claimsA({ realm_access: { roles: [] } })).replace('"roles"', '"roles":["admin"],"roles"'), rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'header not JSON', token: () => `${b64url('{alg')}.${b64url(JSON.stringify(claimsA()))}.AA`, reason: 'malformed' },
  { name: 'payload an array', token: () => forge(headerA, '[1]', rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'payload a string', token: () => forge(headerA, '"sub"', rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'payload null', token: () => forge(headerA, 'null', rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'payload empty', token: () => forge(headerA, '', rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'payload invalid UTF-8', token: () => `${b64url(JSON.stringify(headerA))}.${b64url(Buffer.from([0x7b, 0xff, 0x7d]))}.AA`, reason: 'malformed' },
  { name: 'exp missing', token: () => mint(rsaA, claimsA({ exp: undefined })), reason: 'missing_claim' },
  { name: 'exp a string', token: () => mint(rsaA, claimsA({ exp: String(NOW_SEC + 300) })), reason: 'malformed' },
  { name: 'exp "NaN"', token: () => mint(rsaA, claimsA({ exp: 'NaN' })), reason: 'malformed' },
  { name: 'exp null', token: () => mint(rsaA, claimsA({ exp: null })), reason: 'malformed' },
  { name: 'exp 1e400 (Infinity)', token: () => forge(headerA, `{"iss":"${ISS_A}","sub":"u","aud":"api","exp":1e400}`, rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'nbf a string', token: () => mint(rsaA, claimsA({ nbf: 'soon' })), reason: 'malformed' },
  { name: 'iat -1e400', token: () => forge(headerA, `{"iss":"${ISS_A}","sub":"u","aud":"api","exp":${NOW_SEC + 60},"iat":-1e400}`, rsaSigner(rsaA)), reason: 'malformed' },
  { name: 'expired (exp = now - skew)', token: () => mint(rsaA, claimsA({ exp: NOW_SEC - 30 })), reason: 'expired' },
  { name: 'nbf beyond the skew', token: () => mint(rsaA, claimsA({ nbf: NOW_SEC + 31 })), reason: 'not_before' },
  { name: 'iat beyond the skew', token: () => mint(rsaA, claimsA({ iat: NOW_SEC + 31 })), reason: 'issued_in_future' },
  { name: 'wrong iss', token: () => mint(rsaA, claimsA({ iss: 'https://evil.example.com' })), reason: 'untrusted_issuer' },
  { name: 'iss missing', token: () => mint(rsaA, claimsA({ iss: undefined })), reason: 'untrusted_issuer' },
  { name: 'iss with a trailing slash', token: () => mint(rsaA, claimsA({ iss: `${ISS_A}/` })), reason: 'untrusted_issuer' },
  { name: 'iss of A signed with B key (B kid)', token: () => mint(rsaB, claimsA()), reason: 'unknown_kid' },
  { name: 'iss of A signed with B key (A kid)', token: () => mint(rsaB, claimsA(), { kid: rsaA.kid }), reason: 'bad_signature' },
  { name: 'iss of B signed with A key', token: () => mint(rsaA, accessClaims(ISS_B)), reason: 'unknown_kid' },
  { name: 'wrong aud', token: () => mint(rsaA, claimsA({ aud: 'other' })), reason: 'bad_audience' },
  { name: 'Keycloak default aud account', token: () => mint(rsaA, claimsA({ aud: 'account' })), reason: 'bad_audience' },
  { name: 'aud missing', token: () => mint(rsaA, claimsA({ aud: undefined })), reason: 'bad_audience' },
  { name: 'aud a number', token: () => mint(rsaA, claimsA({ aud: 5 })), reason: 'malformed' },
  { name: 'ID token (typ ID, aud client id)', token: () => mint(rsaA, claimsA({ typ: 'ID', aud: 'web-client', azp: 'web-client' })), reason: 'malformed' },
  { name: 'ID token without typ (aud client id)', token: () => mint(rsaA, claimsA({ aud: 'web-client', nonce: 'n' })), reason: 'bad_audience' },
  { name: 'refresh token (HS256, typ Refresh)', token: () => forge({ alg: 'HS256', kid: randomKid() }, claimsA({ typ: 'Refresh', aud: ISS_A }), hmacSigner('realm-secret')), reason: 'malformed' },
  { name: 'refresh token without typ', token: () => forge({ alg: 'HS256', kid: randomKid() }, claimsA({ aud: 'api' }), hmacSigner('realm-secret')), reason: 'alg_not_allowed' },
  { name: 'unknown kid', token: () => mint(rsaKey({ kid: 'not-published' }), claimsA()), reason: 'unknown_kid' },
  { name: 'bad signature (known kid, other key)', token: () => mint(attacker, claimsA(), { kid: rsaA.kid }), reason: 'bad_signature' },
  { name: 'bad signature (tampered payload)', token: async () => replaceSegment(await mint(rsaA, claimsA()), 1, b64url(JSON.stringify(claimsA({ sub: 'admin' })))), reason: 'bad_signature' },
  { name: 'ES256 with a DER signature', token: () => forge({ alg: 'ES256', kid: ecA.kid }, claimsA(), rsaSigner(ecA)), reason: 'bad_signature' },
  {
    name: 'EdDSA truncated signature',
    token: async () => {
      const token = await mint(edA, claimsA());
      return replaceSegment(token, 2, b64url(Buffer.from(token.split('.')[2]!, 'base64url').subarray(0, 60)));
    },
    reason: 'bad_signature',
  },
  { name: 'sub missing', token: () => mint(rsaA, claimsA({ sub: undefined })), reason: 'missing_claim' },
  { name: 'sub empty', token: () => mint(rsaA, claimsA({ sub: '' })), reason: 'missing_claim' },
  { name: 'sub a number', token: () => mint(rsaA, claimsA({ sub: 42 })), reason: 'missing_claim' },
  { name: 'RS256 token for the HS256 issuer', token: () => mint(rsaA, accessClaims('https://hs.example.com')), reason: 'alg_not_allowed' },
];

t.test('hostile tokens are denied with their reason, without a fetch', async (t) => {
  const hits = { a: serverA.hits.jwks, b: serverB.hits.jwks };
  for (const row of hostile) {
    const result = await verifier.verify(await row.token());
    t.equal(result.ok ? 'accepted' : result.reason, row.reason, row.name);
  }
  t.same({ a: serverA.hits.jwks, b: serverB.hits.jwks }, hits, 'within the floor: no JWKS fetch at all');
});

t.test('an issuer that (wrongly) allows HS256 next to a JWKS still never uses an RSA key as a secret', async (t) => {
  const mixed = { ...issuerA, name: 'mixed', algorithms: ['RS256', 'HS256'] };
  const { verifier: v } = await build([mixed]);
  for (const row of hmacWithRsa) {
    const token = forge({ alg: 'HS256', kid: rsaA.kid }, claimsA(), hmacSigner(row.secret));
    t.match(await v.verify(token), { ok: false, reason: 'unknown_kid', detail: 'kid not published' }, row.form);
  }
});

t.test('a bad signature on a known kid never refetches, even after the floor', async (t) => {
  clock.ms = NOW_MS + FLOOR;
  t.teardown(() => {
    clock.ms = NOW_MS;
  });
  const before = serverA.hits.jwks;
  const token = await mint(attacker, claimsA(), { kid: rsaA.kid });
  t.equal((await verifier.verify(token)).ok, false);
  t.equal(serverA.hits.jwks, before, 'no refetch');
});

const positive: { name: string; token: () => Promise<string>; issuer: string; kid: string | undefined }[] = [
  { name: 'RS256', token: () => mint(rsaA, claimsA()), issuer: 'a', kid: rsaA.kid },
  { name: 'PS256', token: () => mint(psA, claimsA()), issuer: 'a', kid: psA.kid },
  { name: 'ES256', token: () => mint(ecA, claimsA()), issuer: 'a', kid: ecA.kid },
  { name: 'EdDSA', token: () => mint(edA, claimsA()), issuer: 'a', kid: edA.kid },
  { name: 'typ at+JWT, aud array', token: () => mint(rsaA, claimsA({ aud: ['account', 'api'] }), { typ: 'at+JWT' }), issuer: 'a', kid: rsaA.kid },
  { name: 'typ application/at+jwt, payload typ Bearer', token: () => mint(rsaA, claimsA({ typ: 'Bearer' }), { typ: 'application/at+jwt' }), issuer: 'a', kid: rsaA.kid },
  { name: 'exp, nbf and iat within the skew', token: () => mint(rsaA, claimsA({ exp: NOW_SEC - 29, nbf: NOW_SEC + 30, iat: NOW_SEC + 30 })), issuer: 'a', kid: rsaA.kid },
  { name: 'issuer B with its own key', token: () => mint(rsaB, accessClaims(ISS_B)), issuer: 'b', kid: rsaB.kid },
  {
    name: 'HS256 with the issuer secret',
    token: () => Promise.resolve(forge({ alg: 'HS256' }, accessClaims('https://hs.example.com'), hmacSigner(hmacSecret))),
    issuer: 'hs',
    kid: undefined,
  },
];

for (const row of positive) {
  t.test(`valid: ${row.name}`, async (t) => {
    const token = await row.token();
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    const result = await verifier.verify(token);
    t.same(result, {
      ok: true,
      cached: false,
      fingerprint: tokenFingerprint(token),
      compact: token,
      token: { issuer: row.issuer, claims: payload, exp: (payload as { exp: number }).exp, kid: row.kid },
    });
  });
}

t.test('an issuer without `issuer` takes tokens of any iss, when it is the only such one', async (t) => {
  const open = issuerFor(serverA, { name: 'open', issuer: undefined, jwksUri: serverA.jwksUri, jwks });
  const { verifier: v } = await build([issuerB, open]);
  const result = await v.verify(await mint(rsaA, accessClaims('https://anything.example.com')));
  t.equal(result.ok && result.token.issuer, 'open', 'the open issuer verified it');
  t.match(await v.verify(await mint(rsaA, accessClaims(ISS_B))), { ok: false, reason: 'unknown_kid', detail: 'kid not published' }, 'an exact match wins: B only');
  const two = await build([open, { ...open, name: 'open2' }]);
  t.equal((await two.verifier.verify(await mint(rsaA, accessClaims('https://x.example.com')))).ok, false, 'two open issuers: none chosen');
});

t.test('an issuer without a key store answers auth_unavailable', async (t) => {
  const v = createVerifier([issuerA], new Map(), { cacheSize: 10, now });
  t.match(await v.verify(await mint(rsaA, claimsA())), { ok: false, reason: 'auth_unavailable', detail: 'no key store for the issuer' });
});

t.test('an issuer whose keys never loaded answers auth_unavailable', async (t) => {
  const down = await startJwksServer([rsaA.jwk]);
  t.teardown(() => down.close());
  down.modes.jwks = 'error500';
  const { verifier: v } = await build([issuerFor(down, { name: 'down', jwks })]);
  t.match(await v.verify(await mint(rsaA, accessClaims(down.url))), { ok: false, reason: 'auth_unavailable', detail: 'no keys' });
});

t.test('cache: hit on the second call, none after clearCache', async (t) => {
  const { verifier: v } = await build([issuerA]);
  const token = await mint(rsaA, claimsA({ jti: 'cache-1' }));
  t.equal((await v.verify(token)).ok && 'miss', 'miss', 'first call verifies');
  const second = await v.verify(token);
  t.equal(second.ok && second.cached, true, 'second call is a hit');
  t.equal(second.fingerprint, tokenFingerprint(token), 'a hit carries the fingerprint of its token');
  t.equal(second.ok && second.compact, token, 'and the token itself');
  t.equal(await v.verify(`Bearer ${token}`.slice(7)), second, 'every hit is the one verdict, whatever string spells the token');
  t.throws(() => {
    if (second.ok) (second.token.claims as Record<string, unknown>).sub = 'admin';
  }, TypeError, 'cached claims are frozen');
  v.clearCache();
  const third = await v.verify(token);
  t.equal(third.ok && third.cached, false, 'after clearCache: verified again');
});

t.test('cache: an entry is used only until exp', async (t) => {
  t.teardown(() => {
    clock.ms = NOW_MS;
  });
  const { verifier: v } = await build([issuerA]);
  const token = await mint(rsaA, claimsA({ exp: NOW_SEC + 60 }));
  await v.verify(token);
  clock.ms = NOW_MS + 59_000;
  const hit = await v.verify(token);
  t.equal(hit.ok && hit.cached, true, 'before exp: hit');
  clock.ms = NOW_MS + 60_000;
  const within = await v.verify(token);
  t.equal(within.ok && within.cached, false, 'at exp: no hit, verified again (within the skew)');
  clock.ms = NOW_MS + 90_000;
  t.match(await v.verify(token), { ok: false, reason: 'expired', detail: 'exp passed' }, 'past the skew: expired');
});

t.test('cache: size 0 caches nothing; a token verified within the skew is not cached', async (t) => {
  const { verifier: off } = await build([issuerA], 0);
  const token = await mint(rsaA, claimsA());
  await off.verify(token);
  const again = await off.verify(token);
  t.equal(again.ok && again.cached, false, 'size 0: never a hit');
  const skewed = await mint(rsaA, claimsA({ exp: NOW_SEC - 10 }));
  await verifier.verify(skewed);
  const second = await verifier.verify(skewed);
  t.equal(second.ok && second.cached, false, 'exp already passed: not cached');
});

t.test('a verdict is not reused by a verifier with other requirements', async (t) => {
  const token = await mint(rsaA, claimsA());
  t.equal((await verifier.verify(token)).ok, true, 'accepted for audience api');
  const strict = await build([{ ...issuerA, audiences: ['billing'] }]);
  t.same(await strict.verifier.verify(token), { ok: false, reason: 'bad_audience', detail: 'aud has none of the audiences', fingerprint: tokenFingerprint(token) });
});

t.test('a member name written twice is refused; member-like text inside strings is not a member', async (t) => {
  const repeated = forge(headerA, JSON.stringify(claimsA()).replace('{', '{"sub":"admin",'), rsaSigner(rsaA));
  t.match(await verifier.verify(repeated), { ok: false, reason: 'malformed', detail: 'payload repeats a member name' });
  const header = forge(`{"kid":"other","alg":"RS256","kid":"${rsaA.kid}"}`, claimsA(), rsaSigner(rsaA));
  t.match(await verifier.verify(header), { ok: false, reason: 'malformed', detail: 'header repeats a member name' });
  const lookalike = claimsA({ note: 'a":"b", "sub":', 'x\\': { '"sub"': ':' }, list: [{ sub: 1 }, { sub: 2 }] });
  t.match(await verifier.verify(await mint(rsaA, lookalike)), { ok: true, token: { claims: lookalike } }, 'quotes, colons and escapes in strings; same name in sibling objects');
});

t.test('a custom length cap applies before anything else', async (t) => {
  const v = createVerifier([issuerA], new Map(), { cacheSize: 10, now, maxTokenLength: 100 });
  t.match(await v.verify(await mint(rsaA, claimsA())), { ok: false, reason: 'malformed', detail: 'token too long' });
});

t.test('fuzz: 500 random strings resolve to a denial, never throw', async (t) => {
  const reasons = new Set<string>();
  const segment = fc.oneof(fc.base64String(), fc.string(), fc.json().map((j) => b64url(j)));
  const input = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('.')),
    fc.tuple(fc.json(), fc.json()).map(([h, p]) => forge(h, p, rsaSigner(rsaA))),
    fc.object().map((o) => forge(headerA, { ...claimsA(), ...o }, rsaSigner(attacker))),
  );
  await fc.assert(
    fc.asyncProperty(input, async (token) => {
      const result = await verifier.verify(token);
      if (!result.ok) reasons.add(result.reason);
      return !result.ok;
    }),
    { numRuns: 500 },
  );
  t.ok(reasons.has('malformed'), 'malformed among the reasons');
});

t.test('a cached verdict ends when its key is withdrawn from the JWKS', async (t) => {
  const server = await startJwksServer([rsaA.jwk]);
  t.teardown(() => server.close());
  const issuer = issuerFor(server, { name: 'rot', jwks: { refreshIntervalMs: 600_000, minRefreshIntervalMs: 0, timeoutMs: 2_000, maxStaleMs: 86_400_000 } });
  const store = createKeyStore(issuer, { now });
  t.teardown(() => store.close());
  await store.start();
  const v = createVerifier([issuer], new Map([[issuer.name, store]]), { cacheSize: 10, now });
  const token = await mint(rsaA, accessClaims(server.url));
  t.match(await v.verify(token), { ok: true, cached: false });
  t.match(await v.verify(token), { ok: true, cached: true }, 'cached while the key is published');
  server.setKeys([rsaB.jwk]);
  await store.refresh('interval');
  t.match(await v.verify(token), { ok: false, reason: 'unknown_kid' }, 'withdrawn key: the cached verdict is not reused');
});
