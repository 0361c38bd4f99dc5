/**
 * Hostile tokens against the real sidecar process (docs/security.md "Tokens"): algorithm games
 * (none in every casing, HMAC keyed with the RSA public key in every encoding), keys carried
 * or pointed to by the token (never fetched: a canary listener proves it), JWE, oversized
 * tokens, duplicate JSON members, non-finite dates, issuer confusion between two issuers,
 * Keycloak refresh and ID tokens, `typ`/`cty` games, base64 variants, whitespace, and several
 * Authorization headers. Every row: status, error, audit reason, nothing upstream, no IdP hit.
 */
import t from 'tap';
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import { rsaKey } from '../support/keys.js';
import { b64url, forge, hmacSigner, rsaSigner } from '../support/tokens.js';
import { assertDenied, assertStillUp, bearer, idpHits, startCanary } from './support.js';

const h = await harness(t, { routes: `
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
` });
const canary = await startCanary(t);
const attacker = rsaKey();
const ISS = h.jwks.url;
const now = Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ iss: ISS, sub: 'user-1', aud: 'api', exp: now + 300, iat: now - 5, ...extra });
const head = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: 'RS256', kid: h.key.kid, ...extra });
const signed = (header: object | string, payload: object | string): string => forge(header, payload, rsaSigner(h.key));

const devJwks = (await (await fetch(h.idp.jwksUri)).json()) as { keys: JsonWebKey[] };
const devJwk = devJwks.keys[0]!;
const devPem = createPublicKey({ key: devJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
const pem = h.key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const hmacSecrets: Array<[string, string | Buffer]> = [
  ['SPKI PEM', pem],
  ['PEM without trailing newline', pem.trim()],
  ['PEM with CRLF', pem.replace(/\n/g, '\r\n')],
  ['PKCS#1 PEM', h.key.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
  ['DER', h.key.publicKey.export({ type: 'spki', format: 'der' })],
  ['JWK JSON', JSON.stringify(h.key.jwk)],
  ['JWK modulus', String(h.key.jwk.n)],
];
const valid = await h.mintToken();
const [vHead, vBody, vSig] = valid.split('.') as [string, string, string];

type Row = [name: string, headers: () => Record<string, string | string[]>, status: number, error: string, reason: string];
const rows: Row[] = [
  ...['none', 'None', 'NONE', 'nOnE'].map((alg): Row => [`alg "${alg}" with an empty signature`, () => bearer(forge({ alg }, claims())), 401, 'invalid_token', 'alg_not_allowed']),
  ['alg none carrying a real signature', () => bearer(`${b64url('{"alg":"none"}')}.${vBody}.${vSig}`), 401, 'invalid_token', 'alg_not_allowed'],
  ...hmacSecrets.map(([form, secret]): Row => [`HS256 keyed with the RSA public key (${form})`, () => bearer(forge(head({ alg: 'HS256' }), claims(), hmacSigner(secret))), 401, 'invalid_token', 'alg_not_allowed']),
  ['HS512 keyed with the dev IdP public key (its own iss and kid)', () => bearer(forge({ alg: 'HS512', kid: devJwk.kid }, claims({ iss: h.idp.issuer }), hmacSigner(devPem, 'sha512'))), 401, 'invalid_token', 'alg_not_allowed'],
  ['embedded jwk of the attacker', () => bearer(forge(head({ jwk: attacker.jwk }), claims(), rsaSigner(attacker))), 401, 'invalid_token', 'malformed'],
  ['embedded jwk equal to the real key, attacker signature', () => bearer(forge(head({ jwk: h.key.jwk }), claims(), rsaSigner(attacker))), 401, 'invalid_token', 'malformed'],
  ['jku pointing at a listener', () => bearer(signed(head({ jku: `${canary.url}/jwks` }), claims())), 401, 'invalid_token', 'malformed'],
  ['x5u pointing at a listener', () => bearer(signed(head({ x5u: `${canary.url}/cert.pem` }), claims())), 401, 'invalid_token', 'malformed'],
  ['x5c chain', () => bearer(signed(head({ x5c: ['MIIBIjANBgkq'] }), claims())), 401, 'invalid_token', 'malformed'],
  ['crit naming an unknown extension', () => bearer(signed(head({ crit: ['b64'], b64: false }), claims())), 401, 'invalid_token', 'malformed'],
  ['JWE compact (5 segments)', () => bearer(`${b64url('{"alg":"RSA-OAEP-256","enc":"A256GCM"}')}.AAAA.AAAA.AAAA.AAAA`), 401, 'invalid_token', 'malformed'],
  ['JWE with dir and a jku header', () => bearer(`${b64url(JSON.stringify({ alg: 'dir', enc: 'A128GCM', jku: canary.url }))}..AAAA.AAAA.AAAA`), 401, 'invalid_token', 'malformed'],
  ['validly signed token over 8 KiB (header)', () => bearer(signed(head(), claims({ pad: 'x'.repeat(8300) }))), 401, 'invalid_token', 'malformed'],
  ['validly signed token over 8 KiB (cookie)', () => ({ cookie: `access_token=${signed(head(), claims({ pad: 'x'.repeat(8300) }))}` }), 401, 'invalid_token', 'malformed'],
  ['duplicate alg, lexically last is none', () => bearer(signed(`{"alg":"RS256","kid":"${h.key.kid}","alg":"none"}`, claims())), 401, 'invalid_token', 'malformed'],
  ['duplicate alg, last is HS256 keyed with the PEM', () => bearer(forge(`{"alg":"RS256","kid":"${h.key.kid}","alg":"HS256"}`, claims(), hmacSigner(pem))), 401, 'invalid_token', 'malformed'],
  ['duplicate aud, lexically last is foreign', () => bearer(signed(head(), `{"iss":"${ISS}","sub":"u","aud":"api","exp":${now + 300},"aud":"other"}`)), 401, 'invalid_token', 'malformed'],
  ['duplicate iss, lexically last is untrusted', () => bearer(signed(head(), `{"iss":"${ISS}","sub":"u","aud":"api","exp":${now + 300},"iss":"https://evil.example"}`)), 401, 'invalid_token', 'malformed'],
  ['exp 1e400 (Infinity)', () => bearer(signed(head(), `{"iss":"${ISS}","sub":"u","aud":"api","exp":1e400}`)), 401, 'invalid_token', 'malformed'],
  ['exp -1e400', () => bearer(signed(head(), `{"iss":"${ISS}","sub":"u","aud":"api","exp":-1e400}`)), 401, 'invalid_token', 'malformed'],
  ['exp a numeric string', () => bearer(signed(head(), claims({ exp: String(now + 300) }))), 401, 'invalid_token', 'malformed'],
  ['exp an array', () => bearer(signed(head(), claims({ exp: [now + 300] }))), 401, 'invalid_token', 'malformed'],
  ['nbf 1e999', () => bearer(signed(head(), `{"iss":"${ISS}","sub":"u","aud":"api","exp":${now + 300},"nbf":1e999}`)), 401, 'invalid_token', 'malformed'],
  ['iat an object', () => bearer(signed(head(), claims({ iat: { n: 1 } }))), 401, 'invalid_token', 'malformed'],
  ['iss with a trailing slash', () => bearer(signed(head(), claims({ iss: `${ISS}/` }))), 401, 'invalid_token', 'untrusted_issuer'],
  ['iss upper-cased', () => bearer(signed(head(), claims({ iss: ISS.toUpperCase() }))), 401, 'invalid_token', 'untrusted_issuer'],
  ['iss as an array holding the issuer', () => bearer(signed(head(), claims({ iss: [ISS] }))), 401, 'invalid_token', 'untrusted_issuer'],
  ['iss missing', () => bearer(signed(head(), claims({ iss: undefined }))), 401, 'invalid_token', 'untrusted_issuer'],
  ['Keycloak refresh token (HS256, typ Refresh, key not in the JWKS)', () => bearer(forge({ alg: 'HS256', typ: 'JWT', kid: 'kc-hmac' }, claims({ typ: 'Refresh', aud: ISS }), hmacSigner('kc-realm-hmac-secret'))), 401, 'invalid_token', 'malformed'],
  ['Keycloak refresh token shape signed with the issuer key', () => bearer(signed(head(), claims({ typ: 'Refresh' }))), 401, 'invalid_token', 'malformed'],
  ['Keycloak ID token (typ ID, aud = client id)', () => bearer(signed(head(), claims({ typ: 'ID', aud: 'portcullis', azp: 'portcullis' }))), 401, 'invalid_token', 'malformed'],
  ['ID token without typ (aud = client id only)', () => bearer(signed(head(), claims({ aud: 'portcullis', nonce: 'n' }))), 401, 'invalid_token', 'bad_audience'],
  ['Keycloak access token with aud ["account"] only', () => bearer(signed(head(), claims({ aud: ['account'], typ: 'Bearer' }))), 401, 'invalid_token', 'bad_audience'],
  ['header typ JWE', () => bearer(signed(head({ typ: 'JWE' }), claims())), 401, 'invalid_token', 'malformed'],
  ['header typ a number', () => bearer(signed(head({ typ: 1 }), claims())), 401, 'invalid_token', 'malformed'],
  ['header typ "JWT " with a space', () => bearer(signed(head({ typ: 'JWT ' }), claims())), 401, 'invalid_token', 'malformed'],
  ['payload typ "bearer" (case differs from Keycloak)', () => bearer(signed(head(), claims({ typ: 'bearer' }))), 401, 'invalid_token', 'malformed'],
  ['nested JWT (cty JWT, payload is a token)', () => bearer(forge(head({ cty: 'JWT' }), b64url(valid), rsaSigner(h.key))), 401, 'invalid_token', 'malformed'],
  ['standard base64 alphabet with padding in the signature', () => bearer(`${vHead}.${vBody}.${Buffer.from(vSig, 'base64url').toString('base64')}`), 401, 'invalid_token', 'malformed'],
  ['base64url padding appended', () => bearer(`${valid}==`), 401, 'invalid_token', 'malformed'],
  ['signature segment dropped', () => bearer(`${vHead}.${vBody}.`), 401, 'invalid_token', 'bad_signature'],
  ['a segment of the wrong token spliced in', () => bearer(`${vHead}.${b64url(JSON.stringify(claims({ sub: 'admin' })))}.${vSig}`), 401, 'invalid_token', 'bad_signature'],
  ['space inside the token', () => bearer(`${vHead}. ${vBody}.${vSig}`), 401, 'invalid_request', 'bad_scheme'],
  ['tab between scheme and token', () => ({ authorization: `Bearer\t${valid}` }), 401, 'invalid_request', 'bad_scheme'],
  ['tab inside the token', () => ({ authorization: `Bearer ${vHead}.\t${vBody}.${vSig}` }), 401, 'invalid_request', 'bad_scheme'],
  ['two tokens in one header', () => ({ authorization: `Bearer ${valid} ${valid}` }), 401, 'invalid_request', 'bad_scheme'],
  ['comma list of schemes', () => ({ authorization: `Bearer ${valid}, Basic YTpi` }), 401, 'invalid_request', 'bad_scheme'],
  ['Authorization bad, then a valid one', () => ({ authorization: ['Bearer not.a.token', `Bearer ${valid}`] }), 401, 'invalid_request', 'bad_scheme'],
  ['Authorization valid, then a bad one', () => ({ authorization: [`Bearer ${valid}`, 'Bearer not.a.token'] }), 401, 'invalid_request', 'bad_scheme'],
  ['Authorization valid, then Basic', () => ({ authorization: [`Bearer ${valid}`, 'Basic YWRtaW46YWRtaW4='] }), 401, 'invalid_request', 'bad_scheme'],
];

t.beforeEach(() => h.upstream.reset());

for (const [name, headers, status, error, reason] of rows) {
  t.test(`${name} → ${status} ${reason}`, async (t) => {
    const idpBefore = idpHits(h);
    const res = await http(`${h.sidecar.url}/data`, { headers: headers() });
    await assertDenied(t, h, res, { status, error, reason, idpBefore });
  });
}

t.test('nothing named in a token header was ever fetched', async (t) => {
  t.equal(canary.hits(), 0);
});

t.test('issuer confusion: test-issuer key with the dev IdP iss costs at most one dev JWKS refetch', async (t) => {
  const forged = signed(head(), claims({ iss: h.idp.issuer }));
  const before = h.idp.counters().jwks;
  for (let i = 0; i < 5; i++) {
    const res = await http(`${h.sidecar.url}/data`, { headers: bearer(forged) });
    t.equal(res.status, 401);
    t.equal(res.json().error, 'invalid_token');
  }
  t.ok(h.idp.counters().jwks - before <= 1, 'one refetch at most, inside the cool-down');
  t.equal(h.upstream.requests().length, 0);
});

t.test('issuer confusion: dev IdP kid under the test iss is an unknown kid of the test issuer', async (t) => {
  const res = await http(`${h.sidecar.url}/data`, { headers: bearer(forge({ alg: 'RS256', kid: devJwk.kid }, claims(), rsaSigner(h.key))) });
  t.equal(res.status, 401);
  t.equal(res.json().error, 'invalid_token');
  t.equal(h.upstream.requests().length, 0);
});

t.test('controls: the same request shapes pass with a valid token', async (t) => {
  for (const headers of [bearer(valid), { authorization: `bearer   ${valid}` }, bearer(signed(head({ typ: 'at+jwt' }), claims({ typ: 'Bearer' })))]) {
    t.equal((await http(`${h.sidecar.url}/data`, { headers })).status, 200);
  }
});

t.test('the process is still up after the table', (t) => assertStillUp(t, h));
