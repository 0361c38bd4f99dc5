/**
 * Differential test of portcullis's verifier against jose `jwtVerify` (seeded fast-check).
 *
 * Each case builds one token from a model: header and payload members (with duplicates,
 * non-finite and string dates, claims at the clock-skew edges, `crit`, `b64`, keys in the
 * header, typ of every kind), odd base64url spellings, JWE-shaped and oversized tokens,
 * RS256/PS256/ES256/EdDSA/HS256 keys, kid present or absent with one or two keys published.
 * Both sides see the same fixed clock, the same key set (portcullis through its key store
 * from a loopback JWKS server, jose through `createLocalJWKSet` of the same document) and the
 * equivalent options. Properties:
 *   - whatever portcullis accepts, jose accepts, with identical claims;
 *   - whatever jose accepts and portcullis refuses is on EXTRA_REFUSALS, and the refusal's
 *     reason and detail are those of an entry that applies to the case.
 * Access tokens go through `createVerifier` (cache off), ID tokens through `verifyIdToken`.
 */
import t from 'tap';
import fc from 'fast-check';
import { createHash, createHmac, constants, sign } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import type { IssuerConfig } from '../../../src/config/types.js';
import { verifyIdToken } from '../../../src/verify/id-token.js';
import { ACCESS_TOKEN, ID_TOKEN } from '../../../src/verify/jws.js';
import type { TokenProfile } from '../../../src/verify/jws.js';
import { createKeyStore } from '../../../src/verify/key-store.js';
import type { KeyStore } from '../../../src/verify/key-store.js';
import { createVerifier } from '../../../src/verify/verifier.js';
import { issuerFor, startJwksServer } from '../../support/jwks-server.js';
import type { JwksServer } from '../../support/jwks-server.js';
import { ecKey, edKey, rsaKey } from '../../support/keys.js';
import type { TestKey } from '../../support/keys.js';
import { NOW_MS, NOW_SEC, b64url } from '../../support/tokens.js';

const SEED = 20_261_129;
const RUNS = 400;
const SKEW = 30;
const ISS = 'https://idp.example.com/realms/acme';
const API = 'api';
const CLIENT = 'portcullis';
const NONCE = 'N1';
const ACCESS = 'the-access-token-of-the-same-response';
const now = (): number => NOW_MS;

type Kind = 'access' | 'id';
type FamilyName = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'HS256';
type KeySetShape = 'kid+alg' | 'bare';

// ---------------------------------------------------------------- keys on both sides

const SECRETS = ['s'.repeat(32), 't'.repeat(32)] as const;
const keyPairs: Record<Exclude<FamilyName, 'HS256'>, readonly [TestKey, TestKey]> = {
  RS256: [rsaKey(), rsaKey()],
  PS256: [rsaKey({ alg: 'PS256' }), rsaKey({ alg: 'PS256' })],
  ES256: [ecKey(), ecKey()],
  EdDSA: [edKey(), edKey()],
};
const ALLOW_LISTS: Record<FamilyName, readonly (readonly string[])[]> = {
  RS256: [['RS256'], ['RS256', 'PS256']],
  PS256: [['PS256'], ['RS256', 'PS256']],
  ES256: [['ES256']],
  EdDSA: [['EdDSA']],
  HS256: [['HS256']],
};

interface KeySide {
  readonly store: KeyStore;
  readonly base: IssuerConfig;
  readonly jose: JWTVerifyGetKey | Uint8Array;
}

const servers: JwksServer[] = [];
const stores: KeyStore[] = [];
t.teardown(async () => {
  stores.forEach((s) => s.close());
  await Promise.all(servers.map((s) => s.close()));
});

function publicJwk(key: TestKey, shape: KeySetShape): JsonWebKey {
  const { kid, alg, ...bare } = key.jwk;
  return shape === 'kid+alg' ? { ...bare, kid, alg } : bare;
}

async function keySide(family: FamilyName, shape: KeySetShape, count: 1 | 2): Promise<KeySide> {
  const name = `${family}-${shape}-${count}`;
  if (family === 'HS256') {
    const base = issuerFor({ url: ISS } as JwksServer, { name, issuer: ISS, secret: SECRETS[0], clockSkewSec: SKEW });
    const store = createKeyStore(base, { now });
    return { store, base, jose: new TextEncoder().encode(SECRETS[0]) };
  }
  const doc = { keys: keyPairs[family].slice(0, count).map((k) => publicJwk(k, shape)) };
  const server = await startJwksServer(doc.keys);
  servers.push(server);
  const base = issuerFor(server, { name, issuer: ISS, jwksUri: server.jwksUri, clockSkewSec: SKEW });
  const store = createKeyStore(base, { now });
  stores.push(store);
  await store.start();
  return { store, base, jose: createLocalJWKSet(doc) };
}

const FAMILIES: readonly FamilyName[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'];
const sides = new Map<string, KeySide>();
for (const family of FAMILIES) {
  for (const shape of ['kid+alg', 'bare'] as const) {
    for (const count of [1, 2] as const) sides.set(`${family}-${shape}-${count}`, await keySide(family, shape, count));
  }
}

// ---------------------------------------------------------------- the case model

/** A member as written: the name (any JSON string text) and the value's JSON text. */
type Member = readonly [name: string, json: string];

interface Encoding {
  readonly segment: 0 | 1 | 2;
  readonly how: 'padding' | 'unused-bits' | 'space' | 'plus';
}

interface Case {
  readonly kind: Kind;
  readonly family: FamilyName;
  readonly shape: KeySetShape;
  readonly count: 1 | 2;
  readonly allowList: number;
  readonly pinnedIssuer: boolean;
  readonly audiences: boolean;
  readonly alg: string;
  readonly signer: 0 | 1;
  readonly kid: 'signer' | 'first' | 'unknown' | 'absent' | 'number';
  readonly headerExtra: readonly Member[];
  readonly headerDuplicate: readonly Member[];
  readonly payload: readonly Member[];
  readonly payloadDuplicate: readonly Member[];
  readonly encoding: Encoding | undefined;
  readonly shapeOfToken: 'jws' | 'jwe' | 'four';
  readonly size: 'normal' | 'edge' | 'huge';
  readonly sizeDelta: number;
}

const json = (value: unknown): string => JSON.stringify(value);
const member = (name: string, value: unknown): Member => [json(name), json(value)];

/** Dates around the clock-skew edges, far ones, fractional, non-finite, string and null. */
function date(center: number): fc.Arbitrary<string> {
  const edges = [-SKEW - 1, -SKEW, -SKEW + 1, SKEW - 1, SKEW, SKEW + 1].map((d) => String(center + d));
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...edges) },
    { weight: 2, arbitrary: fc.constantFrom(String(NOW_SEC + 300), String(NOW_SEC - 300), String(NOW_SEC - SKEW + 0.5), String(NOW_SEC + SKEW + 0.5)) },
    { weight: 2, arbitrary: fc.constantFrom('1e400', '-1e400', json(String(NOW_SEC + 300)), 'null', '"NaN"') },
  );
}

/** Payload members from chosen claim values (undefined: left out); dates as JSON text. */
interface Claims {
  readonly iss: unknown;
  readonly sub: unknown;
  readonly aud: unknown;
  readonly exp: string | undefined;
  readonly nbf: string | undefined;
  readonly iat: string | undefined;
  readonly typ: unknown;
  readonly nonce: unknown;
  readonly azp: unknown;
  readonly at_hash: unknown;
  readonly extra: readonly Member[];
}

function payloadMembers(p: Claims, alg: string): Member[] {
  const members: Member[] = [];
  for (const name of ['iss', 'sub', 'aud', 'typ', 'nonce', 'azp'] as const) if (p[name] !== undefined) members.push(member(name, p[name]));
  for (const name of ['exp', 'nbf', 'iat'] as const) if (p[name] !== undefined) members.push([json(name), p[name]]);
  if (p.at_hash !== undefined) members.push(member('at_hash', p.at_hash === 'right' ? atHash(alg, ACCESS) : p.at_hash));
  return [...members, ...p.extra];
}

/** OIDC Core §3.1.3.8: left half of the alg's hash (SHA-512 for Ed25519), base64url. */
function atHash(alg: string, token: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(token).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

const headerExtraArb: fc.Arbitrary<readonly Member[]> = fc.constantFrom<readonly Member[]>(
      [member('typ', 'JWT')],
      [member('typ', 'jwt')],
      [member('typ', 'at+jwt')],
      [member('typ', 'application/at+jwt')],
      [member('typ', 'JOSE')],
      [member('typ', 7)],
      [member('cty', 'JWT')],
      [member('b64', false)],
      [member('crit', ['b64']), member('b64', true)],
      [member('crit', ['b64']), member('b64', false)],
      [member('crit', ['exp']), member('exp', 1)],
      [member('jwk', keyPairs.RS256[0].jwk)],
      [member('jku', 'https://evil.example.com/jwks')],
      [member('x5u', 'https://evil.example.com/cert')],
      [member('x5c', ['MIIB'])],
);

/**
 * A case starts from a token both sides accept and varies a few of its dimensions (none to
 * two); the key set and the issuer's settings are always drawn.
 */
function caseArb(kind: Kind): fc.Arbitrary<Case> {
  const target = kind === 'id' ? CLIENT : API;
  const variants = {
    kid: fc.constantFrom<Case['kid']>('number', 'first', 'unknown', 'absent'),
    alg: fc.constantFrom('RS256', 'PS256', 'RS512', 'ES256', 'EdDSA', 'HS256', 'none'),
    signer: fc.constant<0 | 1>(1),
    headerExtra: headerExtraArb,
    headerDuplicate: fc.constantFrom<readonly Member[]>([member('alg', 'none')], [member('kid', 'evil')], [['"\\u0074yp"', json('JOSE')]]),
    payloadDuplicate: fc.constantFrom<readonly Member[]>([member('sub', 'admin')], [['"s\\u0075b"', json('admin')]], [member('exp', NOW_SEC + 9_999_999)]),
    encoding: fc.record({ segment: fc.constantFrom<0 | 1 | 2>(0, 1, 2), how: fc.constantFrom<Encoding['how']>('padding', 'unused-bits', 'space', 'plus') }) as fc.Arbitrary<Encoding | undefined>,
    shapeOfToken: fc.constantFrom<Case['shapeOfToken']>('jwe', 'four'),
    size: fc.constantFrom<Case['size']>('edge', 'edge', 'edge', 'huge'),
    iss: fc.constantFrom<unknown>('https://evil.example.com', 7, undefined),
    sub: fc.constantFrom<unknown>('', 42, undefined),
    aud: fc.constantFrom<unknown>([target, 'other'], 'other', [target, 5], [5, target], 5, undefined),
    exp: fc.oneof(date(NOW_SEC), fc.constantFrom('1e400', '-1e400', undefined)),
    nbf: fc.oneof(date(NOW_SEC), fc.constant('-1e400')) as fc.Arbitrary<string | undefined>,
    iat: fc.oneof(date(NOW_SEC), fc.constantFrom('1e400', '-1e400', undefined)),
    typ: fc.constantFrom<unknown>('Bearer', 'ID', 'Refresh'),
    nonce: fc.constantFrom<unknown>('N2', 5, undefined),
    azp: fc.constantFrom<unknown>(CLIENT, 'other'),
    at_hash: fc.constantFrom<unknown>('right', 'AAAAAAAAAAAAAAAAAAAAAA'),
    extra: fc.constantFrom<readonly Member[]>([['"__proto__"', '{"admin":true}']], [member('roles', ['a', 'b']), member('n', { sub: 'nested' })]),
  };
  type Dimension = keyof typeof variants;
  // The key id, the header extras and iat are drawn more often: each carries several cases.
  const dimensions = [...(Object.keys(variants) as Dimension[]), 'kid', 'kid', 'kid', 'headerExtra', 'iat'] as const;
  return fc
    .record({
      family: fc.constantFrom(...FAMILIES),
      shape: fc.constantFrom<KeySetShape>('kid+alg', 'kid+alg', 'bare'),
      count: fc.constantFrom<1 | 2>(1, 1, 2),
      allowList: fc.nat(1),
      pinnedIssuer: kind === 'id' ? fc.constant(true) : fc.boolean(),
      audiences: kind === 'id' ? fc.constant(true) : fc.boolean(),
      vary: fc.array(fc.constantFrom(...dimensions), { maxLength: 2 }),
      values: fc.record(variants),
      sizeDelta: fc.integer({ min: -6, max: 6 }),
    })
    .map(({ vary, values, ...config }) => {
      const pick = <D extends Dimension>(d: D, fallback: (typeof values)[D]): (typeof values)[D] => (vary.includes(d) ? values[d] : fallback);
      const claims: Claims = {
        iss: pick('iss', ISS),
        sub: pick('sub', 'user-1'),
        aud: pick('aud', target),
        exp: pick('exp', String(NOW_SEC + 300)),
        nbf: pick('nbf', undefined),
        iat: pick('iat', String(NOW_SEC - 10)),
        typ: pick('typ', undefined),
        nonce: kind === 'id' ? pick('nonce', NONCE) : undefined,
        azp: kind === 'id' ? pick('azp', undefined) : undefined,
        at_hash: kind === 'id' ? pick('at_hash', undefined) : undefined,
        extra: pick('extra', []),
      };
      return {
        ...config,
        kind,
        alg: pick('alg', config.family),
        signer: pick('signer', 0),
        kid: pick('kid', 'signer'),
        headerExtra: pick('headerExtra', []),
        headerDuplicate: pick('headerDuplicate', []),
        payload: payloadMembers(claims, config.family),
        payloadDuplicate: pick('payloadDuplicate', []),
        encoding: pick('encoding', undefined),
        shapeOfToken: pick('shapeOfToken', 'jws'),
        size: pick('size', 'normal'),
      };
    });
}

// ---------------------------------------------------------------- building the token

function signInput(alg: string, c: Case, input: string): Buffer {
  const data = Buffer.from(input);
  if (alg === 'none') return Buffer.alloc(0);
  if (c.family === 'HS256') return alg === 'HS256' ? createHmac('sha256', SECRETS[c.signer]).update(data).digest() : createHash('sha512').update(data).digest();
  const key = keyPairs[c.family][c.signer];
  const type = key.privateKey.asymmetricKeyType;
  // An HMAC made with the public key's PEM: the classic algorithm confusion.
  if (alg === 'HS256') return createHmac('sha256', key.publicKey.export({ type: 'spki', format: 'pem' })).update(data).digest();
  if (type === 'rsa' && /^RS(256|512)$/.test(alg)) return sign(`sha${alg.slice(2)}`, data, key.privateKey);
  if (type === 'rsa' && alg === 'PS256') return sign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  if (type === 'ec' && alg === 'ES256') return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  if (type === 'ed25519' && alg === 'EdDSA') return sign(null, data, key.privateKey);
  return createHash('sha512').update(data).digest();
}

function kidOf(c: Case): Member[] {
  if (c.family === 'HS256' && c.kid !== 'number') return c.kid === 'absent' ? [] : [member('kid', 'hs')];
  const keys = c.family === 'HS256' ? undefined : keyPairs[c.family];
  switch (c.kid) {
    case 'signer':
      return [member('kid', keys?.[c.signer].kid)];
    case 'first':
      return [member('kid', keys?.[0].kid)];
    case 'unknown':
      return [member('kid', 'not-published')];
    case 'absent':
      return [];
    case 'number':
      return [member('kid', 7)];
  }
}

const objectText = (members: readonly Member[]): string => `{${members.map(([n, v]) => `${n}:${v}`).join(',')}}`;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Another spelling of the same segment; undefined when `how` has none for it. */
function respell(segment: string, how: Encoding['how']): string | undefined {
  switch (how) {
    case 'padding':
      return segment.length % 4 === 0 ? undefined : segment.padEnd(segment.length + 4 - (segment.length % 4), '=');
    case 'unused-bits': {
      // A last character carrying unused low bits (length % 4 of 2 or 3) is a multiple of 16 or 4.
      if (segment.length % 4 < 2) return undefined;
      return segment.slice(0, -1) + ALPHABET[ALPHABET.indexOf(segment.slice(-1)) + 1];
    }
    case 'space':
      return segment.length < 2 ? undefined : `${segment.slice(0, 1)} ${segment.slice(1)}`;
    case 'plus':
      return /[-_]/.test(segment) ? segment.replace('-', '+').replace('_', '/') : undefined;
  }
}

interface Built {
  readonly token: string;
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The segment spelled non-canonically, if the respelling applied. */
  readonly respelled: 0 | 1 | 2 | undefined;
}

function build(c: Case, padding = 0): Built {
  const headerMembers = [...c.headerDuplicate, member('alg', c.alg), ...kidOf(c), ...c.headerExtra];
  const payloadMembers = [...c.payloadDuplicate, ...c.payload, ...(padding > 0 ? [member('pad', 'x'.repeat(padding))] : [])];
  const headerText = objectText(headerMembers);
  const payloadText = objectText(payloadMembers);
  const segments = [b64url(headerText), b64url(payloadText)];
  let respelled: Built['respelled'];
  if (c.encoding !== undefined && c.encoding.segment < 2) {
    const other = respell(segments[c.encoding.segment]!, c.encoding.how);
    if (other !== undefined) {
      segments[c.encoding.segment] = other;
      respelled = c.encoding.segment;
    }
  }
  const input = segments.join('.');
  let signature = b64url(signInput(c.alg, c, input));
  if (c.encoding?.segment === 2) {
    const other = respell(signature, c.encoding.how);
    if (other !== undefined) {
      signature = other;
      respelled = 2;
    }
  }
  let token = `${input}.${signature}`;
  if (c.shapeOfToken === 'jwe') token = `${token}.${b64url('iv')}.${b64url('tag')}`;
  if (c.shapeOfToken === 'four') token = `${token}.`;
  return { token, header: JSON.parse(headerText), payload: JSON.parse(payloadText), respelled };
}

const profileOf = (kind: Kind): TokenProfile => (kind === 'id' ? ID_TOKEN : ACCESS_TOKEN);

function buildSized(c: Case): Built {
  if (c.size === 'normal') return build(c);
  const plain = build(c);
  const target = c.size === 'huge' ? 64 * 1024 : profileOf(c.kind).maxLength + c.sizeDelta;
  // Each 3 bytes of payload JSON are 4 characters; `,"pad":""` is 9 bytes.
  return build(c, Math.max(1, Math.floor(((target - plain.token.length) * 3) / 4) - 9));
}

// ---------------------------------------------------------------- the two verifiers

type Verdict = { readonly ok: true; readonly claims: unknown } | { readonly ok: false; readonly reason: string; readonly detail: string };

function issuerOf(c: Case): IssuerConfig {
  const side = sides.get(`${c.family}-${c.shape}-${c.count}`)!;
  return {
    ...side.base,
    issuer: c.pinnedIssuer ? ISS : undefined,
    audiences: c.audiences ? [API] : [],
    algorithms: ALLOW_LISTS[c.family][c.allowList % ALLOW_LISTS[c.family].length]!,
  };
}

async function portcullis(c: Case, token: string): Promise<Verdict> {
  const issuer = issuerOf(c);
  const { store } = sides.get(issuer.name)!;
  if (c.kind === 'id') {
    const v = await verifyIdToken(token, issuer, store, { clientId: CLIENT, nonce: NONCE, accessToken: ACCESS }, NOW_MS);
    return v.ok ? { ok: true, claims: v.claims } : v;
  }
  const verifier = createVerifier([issuer], new Map([[issuer.name, store]]), { cacheSize: 0, now });
  const v = await verifier.verify(token);
  return v.ok ? { ok: true, claims: v.token.claims } : { ok: false, reason: v.reason, detail: v.detail ?? '' };
}

async function jose(c: Case, token: string): Promise<Verdict> {
  const issuer = issuerOf(c);
  const options: JWTVerifyOptions = {
    algorithms: [...issuer.algorithms],
    clockTolerance: SKEW,
    currentDate: new Date(NOW_MS),
    requiredClaims: c.kind === 'id' ? ['exp', 'iat', 'sub', 'nonce'] : ['exp', 'sub'],
    ...(issuer.issuer === undefined ? {} : { issuer: issuer.issuer }),
    ...(c.kind === 'id' ? { audience: CLIENT } : issuer.audiences.length > 0 ? { audience: [...issuer.audiences] } : {}),
  };
  const key = sides.get(issuer.name)!.jose;
  try {
    const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    return { ok: true, claims: payload };
  } catch (err) {
    return { ok: false, reason: String((err as { code?: unknown }).code), detail: '' };
  }
}

// ---------------------------------------------------------------- deliberate extra refusals

interface Facts {
  readonly kind: Kind;
  /** The header alg, as signed. */
  readonly alg: string;
  readonly length: number;
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly duplicateInHeader: boolean;
  readonly duplicateInPayload: boolean;
  readonly respelled: 0 | 1 | 2 | undefined;
}

export interface ExtraRefusal {
  readonly name: string;
  /** Why portcullis refuses what jose accepts. */
  readonly why: string;
  readonly reason: string;
  readonly detail: string;
  readonly applies: (f: Facts) => boolean;
}

const nonFinite = (v: unknown): boolean => typeof v === 'number' && !Number.isFinite(v);
const typNotIn = (typ: unknown, accepted: ReadonlySet<string>, lower: boolean): boolean =>
  typ !== undefined && !(typeof typ === 'string' && accepted.has(lower ? typ.toLowerCase() : typ));
const isId = (f: Facts): boolean => f.kind === 'id';

/** Everything portcullis refuses on purpose where jose (with the equivalent options) accepts. */
export const EXTRA_REFUSALS: readonly ExtraRefusal[] = [
  { name: 'token_too_large', why: 'a length cap before any decoding bounds the work a request can cause', reason: 'malformed', detail: 'token too long', applies: (f) => f.length > profileOf(f.kind).maxLength },
  { name: 'non_canonical_header', why: 'one token, one spelling: padding, unused bits or whitespace make a second string for the same token', reason: 'malformed', detail: 'header not canonical base64url', applies: (f) => f.respelled === 0 },
  { name: 'non_canonical_payload', why: 'as for the header; the verdict cache is keyed on the exact string', reason: 'malformed', detail: 'payload not canonical base64url', applies: (f) => f.respelled === 1 },
  { name: 'non_canonical_signature', why: 'as for the header; jose decodes with atob, which forgives padding, unused bits and spaces', reason: 'malformed', detail: 'signature not canonical base64url', applies: (f) => f.respelled === 2 },
  { name: 'duplicate_json_key_header', why: 'JSON.parse keeps the last copy, other parsers the first: the token would mean two things', reason: 'malformed', detail: 'header repeats a member name', applies: (f) => f.duplicateInHeader },
  { name: 'duplicate_json_key_payload', why: 'an upstream parsing the forwarded token must read the claims portcullis judged', reason: 'malformed', detail: 'payload repeats a member name', applies: (f) => f.duplicateInPayload },
  { name: 'crit_header', why: 'no extension is understood here, so none may be critical (jose understands b64)', reason: 'malformed', detail: 'crit header parameter', applies: (f) => Object.hasOwn(f.header, 'crit') },
  { name: 'key_in_header', why: 'a token never brings or points to its own key; jose ignores them, portcullis refuses the attempt', reason: 'malformed', detail: 'key in the header', applies: (f) => ['jwk', 'jku', 'x5u', 'x5c'].some((n) => Object.hasOwn(f.header, n)) },
  { name: 'kid_not_string', why: 'a kid is a string; jose ignores the kid when handed one key (HS256 secret)', reason: 'malformed', detail: 'kid not a string', applies: (f) => f.header.kid !== undefined && typeof f.header.kid !== 'string' },
  { name: 'header_typ_of_another_kind', why: 'an access token (at+jwt) never serves as an ID token, and a JOSE object of another type never as a JWT', reason: 'malformed', detail: `header typ not for ${ACCESS_TOKEN.name}`, applies: (f) => !isId(f) && typNotIn(f.header.typ, ACCESS_TOKEN.headerTyp, true) },
  { name: 'header_typ_of_another_kind_id', why: 'as above, for ID tokens', reason: 'malformed', detail: `header typ not for ${ID_TOKEN.name}`, applies: (f) => isId(f) && typNotIn(f.header.typ, ID_TOKEN.headerTyp, true) },
  { name: 'payload_typ_of_another_kind', why: "Keycloak's typ tells refresh and ID tokens from access tokens", reason: 'malformed', detail: `not ${ACCESS_TOKEN.name}`, applies: (f) => !isId(f) && typNotIn(f.payload.typ, ACCESS_TOKEN.payloadTyp, false) },
  { name: 'payload_typ_of_another_kind_id', why: "Keycloak's typ tells access and refresh tokens from ID tokens", reason: 'malformed', detail: `not ${ID_TOKEN.name}`, applies: (f) => isId(f) && typNotIn(f.payload.typ, ID_TOKEN.payloadTyp, false) },
  { name: 'non_finite_exp', why: 'jose takes exp 1e400 (Infinity) as a token that never expires', reason: 'malformed', detail: 'exp not a finite number', applies: (f) => nonFinite(f.payload.exp) },
  { name: 'non_finite_nbf', why: 'a non-finite date is not a date', reason: 'malformed', detail: 'nbf not a finite number', applies: (f) => nonFinite(f.payload.nbf) },
  { name: 'non_finite_iat', why: 'a non-finite date is not a date', reason: 'malformed', detail: 'iat not a finite number', applies: (f) => nonFinite(f.payload.iat) },
  { name: 'future_iat', why: 'a token issued after now (beyond the skew) comes from a wrong clock or a forger; jose checks iat only with maxTokenAge', reason: 'issued_in_future', detail: 'iat in the future', applies: (f) => typeof f.payload.iat === 'number' && Number.isFinite(f.payload.iat) && f.payload.iat > NOW_SEC + SKEW },
  { name: 'missing_sub', why: 'no request passes without a user: sub must be a non-empty string, jose only checks it is there', reason: 'missing_claim', detail: 'sub missing', applies: (f) => Object.hasOwn(f.payload, 'sub') && !(typeof f.payload.sub === 'string' && f.payload.sub !== '') },
  { name: 'aud_not_strings', why: 'aud is a string or an array of strings; jose accepts any array holding a match', reason: 'malformed', detail: 'aud not a string or string array', applies: (f) => Array.isArray(f.payload.aud) && f.payload.aud.some((a) => typeof a !== 'string') },
  { name: 'azp_not_client', why: 'OIDC Core 3.1.3.7: with azp, or with several audiences, azp must be this client', reason: 'bad_audience', detail: 'azp is not the client id', applies: (f) => isId(f) && (f.payload.azp !== undefined || (Array.isArray(f.payload.aud) && f.payload.aud.length > 1)) && f.payload.azp !== CLIENT },
  { name: 'nonce_mismatch', why: 'OIDC Core 3.1.3.7: the nonce binds the ID token to this login', reason: 'invalid_state', detail: 'nonce mismatch', applies: (f) => isId(f) && f.payload.nonce !== NONCE },
  { name: 'at_hash_mismatch', why: 'OIDC Core 3.1.3.8: at_hash binds the access token to the ID token', reason: 'invalid_state', detail: 'at_hash mismatch', applies: (f) => isId(f) && f.payload.at_hash !== undefined && f.payload.at_hash !== atHash(f.alg, ACCESS) },
];

// ---------------------------------------------------------------- the properties

const seen = new Map<string, number>();
const outcomes = { bothAccept: 0, bothRefuse: 0, extra: 0 };

async function differential(c: Case): Promise<void> {
  const built = buildSized(c);
  const [mine, theirs] = [await portcullis(c, built.token), await jose(c, built.token)];
  const where = `case ${JSON.stringify({ ...c, payload: undefined })}; token length ${built.token.length}`;
  if (mine.ok) {
    if (!theirs.ok) throw new Error(`portcullis accepts what jose refuses (${theirs.reason}): ${where}`);
    if (!isDeepStrictEqual(mine.claims, theirs.claims)) throw new Error(`claims differ: ${where}`);
    outcomes.bothAccept += 1;
    return;
  }
  if (!theirs.ok) {
    outcomes.bothRefuse += 1;
    return;
  }
  const facts: Facts = {
    kind: c.kind,
    alg: c.alg,
    length: built.token.length,
    header: built.header,
    payload: built.payload,
    duplicateInHeader: c.headerDuplicate.length > 0,
    duplicateInPayload: c.payloadDuplicate.length > 0,
    respelled: built.respelled,
  };
  const entry = EXTRA_REFUSALS.find((e) => e.applies(facts) && e.reason === mine.reason && e.detail === mine.detail);
  if (entry === undefined) {
    const applicable = EXTRA_REFUSALS.filter((e) => e.applies(facts)).map((e) => e.name);
    throw new Error(`jose accepts, portcullis refuses with ${mine.reason} (${mine.detail}), applicable entries [${applicable.join(', ')}]: ${where}`);
  }
  outcomes.extra += 1;
  seen.set(entry.name, (seen.get(entry.name) ?? 0) + 1);
}

t.test('access tokens: portcullis accepts only what jose accepts, with the same claims; every extra refusal is listed', async (t) => {
  await fc.assert(fc.asyncProperty(caseArb('access'), differential), { seed: SEED, numRuns: RUNS });
  t.pass(`${RUNS} cases`);
});

t.test('ID tokens: the same, with the OIDC checks on the list', async (t) => {
  await fc.assert(fc.asyncProperty(caseArb('id'), differential), { seed: SEED + 1, numRuns: RUNS });
  t.pass(`${RUNS} cases`);
});

t.test('the cases reach every outcome and every listed refusal', async (t) => {
  t.ok(outcomes.bothAccept > RUNS / 10, `both accept: ${outcomes.bothAccept}`);
  t.ok(outcomes.bothRefuse > 0, `both refuse: ${outcomes.bothRefuse}`);
  t.comment(JSON.stringify({ ...outcomes, seen: Object.fromEntries(seen) }));
  for (const entry of EXTRA_REFUSALS) t.ok((seen.get(entry.name) ?? 0) > 0, `${entry.name} seen ${seen.get(entry.name) ?? 0} times`);
});
