/**
 * `portcullis verify -c FILE TOKEN|-` as a real process of the built CLI, against a real dev IdP
 * and a test issuer whose key the test holds: the decision, the reason, the claims and the
 * identity as JSON, exit 0 or 1, and never the token itself on stdout or stderr; `--path`,
 * `--method`, `--host` judge a request's route as serve does; a denial says what was found and
 * expected; exit 3 when the issuer cannot be reached.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { startDevIdp } from '../../src/dev/idp.js';
import { rsaKey } from '../support/keys.js';
import { startJwksServer } from '../support/jwks-server.js';
import { forge, mint } from '../support/tokens.js';
import { runCli, writeConfig } from '../support/sidecar.js';

// About thirty CLI processes: more than tap's default per-file time on a busy machine.
t.setTimeout(400_000);
const [idp, jwks] = await Promise.all([startDevIdp(), startJwksServer()]);
t.teardown(() => Promise.all([idp.close(), jwks.close()]));
const key = rsaKey();
const stranger = rsaKey({ kid: key.kid });
jwks.setKeys([key.jwk]);

const issuers = `issuers:
  - name: idp
    issuer: ${idp.issuer}
    audiences: [api]
  - name: test
    issuer: ${jwks.url}
    audiences: [api]
`;
const file = writeConfig(issuers);
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

interface Judged extends Verdict {
  detail?: string;
  requirement?: string;
  route?: { name: string; auth: string } | null;
}

const routed = writeConfig(`${issuers}routes:
  - name: admin
    match: { path: /admin, methods: [GET] }
    require: { roles: [admin] }
  - name: org
    match: { path: /org }
    require: { claims: { org: acme } }
  - name: staff
    match: { path: /staff }
    issuers: [idp]
  - name: public
    match: { path: /public }
    auth: public
  - name: app
    match: { host: app.example.com, path: /app }
`);

/** `verify --path ...` with the routed config; the token never appears in the output. */
async function judge(t: Test, token: string, flags: string[]): Promise<{ code: number | null; verdict: Judged; stderr: string }> {
  const res = await runCli(['verify', '-c', routed, ...flags, token]);
  t.notOk((res.stdout + res.stderr).includes(token), 'the token is not printed');
  return { code: res.code, verdict: JSON.parse(res.stdout) as Judged, stderr: res.stderr };
}

t.test('a claim mismatch says what was found and what was expected, in JSON and on stderr', async (t) => {
  const res = await runCli(['verify', '-c', file, await mint(key, { ...claims, aud: 'account' })]);
  const verdict = JSON.parse(res.stdout) as Judged;
  t.equal(res.code, 1);
  t.equal(verdict.reason, 'bad_audience');
  t.equal(verdict.detail, 'aud: ["account"], expected one of ["api"]');
  t.match(res.stderr, 'denied: bad_audience: aud: ["account"], expected one of ["api"]');
});

t.test('--path judges the route as serve would', async (t) => {
  const user = await mint(key, { ...claims, realm_access: { roles: ['user'] }, org: 'other' });
  const rows: Array<{ desc: string; token: string; flags: string[]; code: number; decision: string; reason: string | null; route: string | null; requirement?: string; detail?: string }> = [
    { desc: 'a missing role: 403 with the requirement', token: user, flags: ['--path', '/admin/users'], code: 1, decision: 'denied', reason: 'insufficient_scope', route: 'admin', requirement: 'roles', detail: 'roles: ["user"], expected one of ["admin"]' },
    { desc: 'a claim requirement: found and expected', token: user, flags: ['--path', '/org'], code: 1, decision: 'denied', reason: 'insufficient_scope', route: 'org', requirement: 'claims', detail: 'org: "other", expected "acme"' },
    { desc: 'a method the route does not take: 405', token: user, flags: ['--path', '/admin', '--method', 'post'], code: 1, decision: 'denied', reason: 'method_not_allowed', route: null, detail: 'method not accepted on this path; allowed: GET, HEAD' },
    { desc: 'no route: 404', token: user, flags: ['--path', '/nowhere'], code: 1, decision: 'denied', reason: 'not_found', route: null },
    { desc: 'a route bound to a host is not matched without it', token: user, flags: ['--path', '/app'], code: 1, decision: 'denied', reason: 'not_found', route: null },
    { desc: 'with --host it is', token: user, flags: ['--path', '/app/x', '--host', 'App.Example.com'], code: 0, decision: 'allowed', reason: null, route: 'app' },
    { desc: 'a route that takes another issuer only', token: user, flags: ['--path', '/staff'], code: 1, decision: 'denied', reason: 'untrusted_issuer', route: 'staff', requirement: 'issuer', detail: 'issuer: "test", expected one of ["idp"]' },
    { desc: 'that route with a token of its issuer', token: aliceToken, flags: ['--path', '/staff'], code: 0, decision: 'allowed', reason: null, route: 'staff' },
    { desc: 'a public route', token: user, flags: ['--path', '/public/x'], code: 0, decision: 'public', reason: null, route: 'public' },
    { desc: 'a path serve refuses', token: user, flags: ['--path', '/a/%2F/b'], code: 1, decision: 'denied', reason: 'invalid_path', route: null },
  ];
  for (const row of rows) {
    const { code, verdict, stderr } = await judge(t, row.token, row.flags);
    t.equal(code, row.code, `${row.desc}: exit`);
    t.equal(verdict.decision, row.decision, `${row.desc}: decision`);
    t.equal(verdict.reason, row.reason, `${row.desc}: reason`);
    t.equal(verdict.route?.name ?? null, row.route, `${row.desc}: route`);
    t.equal(verdict.requirement, row.requirement, `${row.desc}: requirement`);
    if (row.detail !== undefined) {
      t.equal(verdict.detail, row.detail, `${row.desc}: detail`);
      t.match(stderr, row.detail, `${row.desc}: detail on stderr`);
    }
  }
});

t.test('exit 3 when the issuer cannot be reached; 2 for flags without --path', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const down = `http://127.0.0.1:${port}`;
  const unreachable = writeConfig(`issuers:\n  - name: down\n    issuer: ${down}\n    audiences: [api]\nroutes:\n  - name: app\n    match: { path: / }\n`);
  const token = await mint(key, { ...claims, iss: down });
  for (const flags of [[], ['--path', '/x']]) {
    const res = await runCli(['verify', '-c', unreachable, ...flags, token]);
    const verdict = JSON.parse(res.stdout) as Judged;
    t.equal(res.code, 3, `exit 3 ${flags.join(' ')}`);
    t.equal(verdict.reason, 'auth_unavailable');
    t.match(verdict.detail, /^keys of issuer "down" could not be loaded \(discovery: .+\); check that the IdP is reachable$/);
    t.notOk((res.stdout + res.stderr).includes(token));
  }
  for (const [flags, message] of [[['--host', 'a.example'], /add --path/], [['--method', 'GET'], /add --path/], [['--path', 'x'], /must start with/]] as const) {
    const res = await runCli(['verify', '-c', routed, ...flags, token]);
    t.equal(res.code, 2, `${flags.join(' ')}: usage`);
    t.match(res.stderr, message);
    t.equal(res.stdout, '');
  }
});
