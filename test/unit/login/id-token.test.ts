import t from 'tap';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { LoginEnv } from '../../../src/login/context.js';
import { checkIdToken } from '../../../src/login/id-token.js';
import { forge } from '../../support/tokens.js';

const ISSUER = 'https://idp.example.com';
const NOW = 1_700_000_000;
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 });

const env = {
  issuer: { name: 'idp', issuer: ISSUER, algorithms: ['RS256'], clockSkewSec: 30 },
  login: { clientId: 'portcullis' },
  now: () => NOW * 1000,
  state: {
    stores: new Map([
      [
        'idp',
        {
          getKey: (kid: string | undefined, alg: string) =>
            Promise.resolve(kid === 'k1' && alg === 'RS256' ? { ok: true, key: signing.publicKey } : { ok: false, reason: 'unknown_kid' }),
        },
      ],
    ]),
  },
} as unknown as LoginEnv;

interface Spec {
  claims?: Record<string, unknown>;
  kid?: string;
  alg?: string;
  typ?: string;
  key?: KeyObject;
}

const ACCESS_TOKEN = 'access-token-of-the-same-response';
// OIDC Core §3.1.3.8 for RS256: left half of SHA-256 over the access token's ASCII bytes.
const AT_HASH = createHash('sha256').update(ACCESS_TOKEN).digest().subarray(0, 16).toString('base64url');

function idToken(spec: Spec = {}): Promise<string> {
  const claims = { iss: ISSUER, aud: 'portcullis', sub: 'user-1', nonce: 'N1', iat: NOW - 10, exp: NOW + 300, ...spec.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete (claims as Record<string, unknown>)[k];
  const typ = spec.typ === undefined ? {} : { typ: spec.typ };
  return new SignJWT(claims).setProtectedHeader({ alg: spec.alg ?? 'RS256', kid: spec.kid ?? 'k1', ...typ }).sign(spec.key ?? signing.privateKey);
}

const check = async (spec: Spec = {}): Promise<unknown> => checkIdToken(env, await idToken(spec), 'N1', ACCESS_TOKEN);

const rows: ReadonlyArray<readonly [string, Spec, string]> = [
  ['wrong nonce', { claims: { nonce: 'N2' } }, 'invalid_state'],
  ['no nonce', { claims: { nonce: undefined } }, 'missing_claim'],
  ['other issuer', { claims: { iss: 'https://evil.example' } }, 'untrusted_issuer'],
  ['other audience (an access token for the API)', { claims: { aud: 'api' } }, 'bad_audience'],
  ['several audiences without azp', { claims: { aud: ['portcullis', 'other'] } }, 'bad_audience'],
  ['several audiences with another azp', { claims: { aud: ['portcullis', 'other'], azp: 'other' } }, 'bad_audience'],
  ['expired', { claims: { exp: NOW - 60 } }, 'expired'],
  ['no sub', { claims: { sub: undefined } }, 'missing_claim'],
  ['signed by a foreign key under a known kid', { key: foreign.privateKey }, 'bad_signature'],
  ['unknown kid', { kid: 'k2' }, 'unknown_kid'],
  ['alg outside the allow-list', { alg: 'PS256' }, 'alg_not_allowed'],
  ['azp of another client with one audience', { claims: { azp: 'other' } }, 'bad_audience'],
  ['no iat', { claims: { iat: undefined } }, 'missing_claim'],
  ['iat beyond the clock skew', { claims: { iat: NOW + 31 } }, 'issued_in_future'],
  ['nonce not a string', { claims: { nonce: 1 } }, 'invalid_state'],
  ['at_hash of another access token', { claims: { at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' } }, 'invalid_state'],
  ['at_hash not a string', { claims: { at_hash: 7 } }, 'invalid_state'],
  ['an access token (Keycloak typ Bearer)', { claims: { typ: 'Bearer' } }, 'malformed'],
  ['an access token (header typ at+jwt)', { typ: 'at+jwt' }, 'malformed'],
  ['a refresh token (Keycloak typ Refresh)', { claims: { typ: 'Refresh' } }, 'malformed'],
];

t.test('refused ID tokens', async (t) => {
  for (const [description, spec, reason] of rows) {
    t.same(await check(spec), { ok: false, reason }, description);
  }
  t.same(await checkIdToken(env, 'not.a.jwt', 'N1', ACCESS_TOKEN), { ok: false, reason: 'malformed' }, 'garbage');
  t.same(await checkIdToken(env, 'x'.repeat(17_000), 'N1', ACCESS_TOKEN), { ok: false, reason: 'malformed' }, 'oversized');
  const twoSubs = forge({ alg: 'RS256', kid: 'k1' }, `{"iss":"${ISSUER}","aud":"portcullis","sub":"admin","sub":"user-1","nonce":"N1","iat":${NOW},"exp":${NOW + 60}}`, (input) => sign('sha256', Buffer.from(input), signing.privateKey));
  t.same(await checkIdToken(env, twoSubs, 'N1', ACCESS_TOKEN), { ok: false, reason: 'malformed' }, 'a member name twice (sub)');
});

t.test('accepted ID tokens', async (t) => {
  const user = { ok: true, sub: 'user-1' };
  t.same(await check(), user, 'plain');
  t.same(await check({ claims: { aud: ['portcullis', 'other'], azp: 'portcullis' } }), user, 'several audiences with azp = client id');
  t.same(await check({ claims: { azp: 'portcullis' } }), user, 'one audience with azp = client id');
  t.same(await check({ claims: { exp: NOW - 20 } }), user, 'expired within the clock skew');
  t.same(await check({ claims: { at_hash: AT_HASH } }), user, 'at_hash of the access token');
  t.same(await check({ claims: { typ: 'ID' }, typ: 'JWT' }), user, 'Keycloak typ ID, header typ JWT');
});
