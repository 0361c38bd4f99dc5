import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { LoginEnv } from '../../../src/login/context.js';
import { checkIdToken } from '../../../src/login/id-token.js';

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
  key?: KeyObject;
}

function idToken(spec: Spec = {}): Promise<string> {
  const claims = { iss: ISSUER, aud: 'portcullis', sub: 'user-1', nonce: 'N1', iat: NOW - 10, exp: NOW + 300, ...spec.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete (claims as Record<string, unknown>)[k];
  return new SignJWT(claims).setProtectedHeader({ alg: spec.alg ?? 'RS256', kid: spec.kid ?? 'k1' }).sign(spec.key ?? signing.privateKey);
}

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
];

t.test('refused ID tokens', async (t) => {
  for (const [description, spec, reason] of rows) {
    t.same(await checkIdToken(env, await idToken(spec), 'N1'), { ok: false, reason }, description);
  }
  t.same(await checkIdToken(env, 'not.a.jwt', 'N1'), { ok: false, reason: 'malformed' }, 'garbage');
  t.same(await checkIdToken(env, 'x'.repeat(17_000), 'N1'), { ok: false, reason: 'malformed' }, 'oversized');
});

t.test('accepted ID tokens', async (t) => {
  t.same(await checkIdToken(env, await idToken(), 'N1'), { ok: true, sub: 'user-1' }, 'plain');
  t.same(
    await checkIdToken(env, await idToken({ claims: { aud: ['portcullis', 'other'], azp: 'portcullis' } }), 'N1'),
    { ok: true, sub: 'user-1' },
    'several audiences with azp = client id',
  );
  t.same(await checkIdToken(env, await idToken({ claims: { exp: NOW - 20 } }), 'N1'), { ok: true, sub: 'user-1' }, 'expired within the clock skew');
});
