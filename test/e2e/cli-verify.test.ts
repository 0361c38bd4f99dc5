/**
 * `portcullis verify -c FILE TOKEN|-` as a real process of the built CLI, against a real dev IdP
 * and a test issuer whose key the test holds: the decision, the reason, the claims and the
 * identity as JSON, exit 0 or 1, and never the token itself on stdout or stderr.
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { startDevIdp } from '../../src/dev/idp.js';
import { rsaKey } from '../support/keys.js';
import { startJwksServer } from '../support/jwks-server.js';
import { forge, mint } from '../support/tokens.js';
import { runCli, writeConfig } from '../support/sidecar.js';

// Thirteen CLI processes: more than tap's default per-file time on a busy machine.
t.setTimeout(240_000);
const [idp, jwks] = await Promise.all([startDevIdp(), startJwksServer()]);
t.teardown(() => Promise.all([idp.close(), jwks.close()]));
const key = rsaKey();
const stranger = rsaKey({ kid: key.kid });
jwks.setKeys([key.jwk]);

const file = writeConfig(`issuers:
  - name: idp
    issuer: ${idp.issuer}
    audiences: [api]
  - name: test
    issuer: ${jwks.url}
    audiences: [api]
`);
const alice = idp.users.find((u) => u.username === 'alice')!;
const aliceToken = (await idp.passwordLogin(alice.username, alice.password)).access_token;
const now = Math.floor(Date.now() / 1000);
const claims = { iss: jwks.url, sub: 'user-1', aud: 'api', exp: now + 300, iat: now - 5 };

interface Verdict {
  decision: string;
  reason: string | null;
  issuer?: string;
  claims?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  unverified_claims?: Record<string, unknown> | null;
}

/** Runs verify and checks, for every case, that no part of the token is printed anywhere. */
async function verify(t: Test, token: string, via: 'argument' | 'stdin' = 'argument'): Promise<{ code: number | null; verdict: Verdict }> {
  const res = via === 'stdin' ? await runCli(['verify', '-c', file, '-'], { input: `${token}\n` }) : await runCli(['verify', '-c', file, token]);
  const printed = res.stdout + res.stderr;
  t.notOk(printed.includes(token), 'the token is not printed');
  const signature = token.split('.')[2] ?? '';
  t.notOk(signature !== '' && printed.includes(signature), 'its signature is not printed');
  return { code: res.code, verdict: JSON.parse(res.stdout) as Verdict };
}

t.test('a real IdP token: exit 0, allowed, with claims and identity', async (t) => {
  const { code, verdict } = await verify(t, aliceToken);
  t.equal(code, 0);
  t.equal(verdict.decision, 'allowed');
  t.equal(verdict.reason, null);
  t.equal(verdict.issuer, 'idp');
  t.equal(verdict.claims?.sub, alice.id);
  t.equal(verdict.claims?.iss, idp.issuer);
  t.match(verdict.identity, {
    user: alice.id,
    email: alice.email,
    username: 'alice',
    groups: alice.groups,
    roles: alice.realmRoles,
    issuer: idp.issuer,
  });
});

t.test('"-" reads the token from standard input', async (t) => {
  const { code, verdict } = await verify(t, aliceToken, 'stdin');
  t.equal(code, 0);
  t.equal(verdict.decision, 'allowed');
  t.equal(verdict.claims?.sub, alice.id);
});

const denied: Array<[string, () => Promise<string>, string]> = [
  ['an expired token', () => mint(key, { ...claims, exp: now - 3600, iat: now - 7200 }), 'expired'],
  ['a token signed by another key under the published kid', () => mint(stranger, claims), 'bad_signature'],
  ['an unsigned token (alg none)', () => Promise.resolve(forge({ alg: 'none' }, claims)), 'alg_not_allowed'],
  ['a token for another audience', () => mint(key, { ...claims, aud: 'account' }), 'bad_audience'],
  ['a token of an untrusted issuer', () => mint(key, { ...claims, iss: 'https://evil.example' }), 'untrusted_issuer'],
];
for (const [name, token, reason] of denied) {
  t.test(`${name}: exit 1, denied, reason ${reason}`, async (t) => {
    const { code, verdict } = await verify(t, await token());
    t.equal(code, 1);
    t.equal(verdict.decision, 'denied');
    t.equal(verdict.reason, reason);
    t.equal(verdict.unverified_claims?.sub, 'user-1', 'the unverified claims help the operator');
    t.equal(verdict.claims, undefined, 'no verified claims');
  });
}

t.test('an expired token through stdin is denied the same way', async (t) => {
  const { code, verdict } = await verify(t, await mint(key, { ...claims, exp: now - 3600, iat: now - 7200 }), 'stdin');
  t.equal(code, 1);
  t.equal(verdict.reason, 'expired');
});

t.test('garbage: exit 1, malformed, no claims to show', async (t) => {
  const { code, verdict } = await verify(t, 'not-a-jwt');
  t.equal(code, 1);
  t.equal(verdict.reason, 'malformed');
  t.equal(verdict.unverified_claims, null);
});

const badConfig = fileURLToPath(new URL('../fixtures/config/invalid/no-issuer.yaml', import.meta.url));
const usage: Array<[string, string[], string, number, RegExp]> = [
  ['no token argument', ['verify', '-c', file], '', 2, /no token/],
  ['"-" with empty standard input', ['verify', '-c', file, '-'], '\n', 2, /no token/],
  ['an invalid config', ['verify', '-c', badConfig, 'x.y.z'], '', 1, new RegExp(`^${badConfig.replaceAll('.', '\\.')}:\\d+:\\d+ `, 'm')],
];
for (const [name, args, input, code, stderr] of usage) {
  t.test(`verify with ${name}: exit ${code}`, async (t) => {
    const res = await runCli(args, { input });
    t.equal(res.code, code);
    t.match(res.stderr, stderr);
    t.equal(res.stdout, '');
  });
}
