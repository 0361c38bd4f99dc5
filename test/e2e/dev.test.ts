/**
 * `portcullis dev` as a process: the printed tour works end to end (password login, a call
 * with the token, a refusal without one, the forward-auth decision) and Ctrl-C stops it cleanly.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { CLI } from '../support/sidecar.js';
import { http } from '../support/http.js';

const EXTRA_CALLBACK = 'http://127.0.0.1:18443/_auth/callback';
const child = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--redirect-uri', EXTRA_CALLBACK], { stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '';
let stderr = '';
child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
t.teardown(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

const tour = await new Promise<string>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`dev did not print its tour:\n${stderr}`)), 30_000);
  const check = (): void => {
    if (stdout.includes('Press Ctrl-C to stop.')) {
      clearTimeout(timer);
      resolve(stdout);
    }
  };
  child.stdout.on('data', check);
  void exited.then(() => reject(new Error(`dev exited early:\n${stderr}`)));
});
const [, url, admin] = /sidecar (http:\/\/[\d.:]+), admin (http:\/\/[\d.:]+)/.exec(tour) ?? [];

t.test('the tour names the sidecar, the admin port, the demo users and the curl lines', async (t) => {
  t.ok(url && admin);
  t.match(tour, /alice\/alice-password/);
  t.match(tour, new RegExp(`curl -s ${url}/_auth/login`));
  t.match(tour, /_auth\/verify/);
});

t.test('the printed flow works: login, call with the token, refusal without', async (t) => {
  const body = /-d '(\{[^']+\})'/.exec(tour)![1]!;
  const login = await http(`${url}/_auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  t.equal(login.status, 200);
  const token = login.json<{ auth_token: { access_token: string } }>().auth_token.access_token;
  const call = await http(`${url}/hello`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(call.status, 200);
  t.equal(call.json<{ headers: Record<string, string> }>().headers['x-auth-request-preferred-username'], 'alice');
  t.equal((await http(`${url}/hello`)).status, 401);
  t.equal((await http(`${url}/admin`, { headers: { authorization: `Bearer ${token}` } })).status, 403);
  const decision = await http(`${url}/_auth/verify`, { headers: { 'x-forwarded-uri': '/hello', authorization: `Bearer ${token}` } });
  t.equal(decision.status, 200);
  t.equal(decision.headers['x-auth-request-preferred-username'], 'alice');
  t.equal((await http(`${admin}/readyz`)).status, 200);
});

t.test('--redirect-uri: the dev IdP accepts that callback too', async (t) => {
  const issuer = /"idp":"(http:[^"]+)"/.exec(stderr)?.[1] ?? '';
  const authorize = async (redirectUri: string): Promise<string> => {
    const q = new URLSearchParams({ client_id: 'portcullis', response_type: 'code', scope: 'openid', redirect_uri: redirectUri, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const res = await fetch(`${issuer}/auth?${q.toString()}`, { redirect: 'manual' });
    return `${res.status} ${res.headers.get('location') ?? ''}`;
  };
  t.match(await authorize(EXTRA_CALLBACK), /^30[23] \/interaction\//, 'the extra callback goes on to the sign-in page');
  t.match(await authorize('http://127.0.0.1:18444/_auth/callback'), /^400 /, 'another one is refused');
});

t.test('Ctrl-C (SIGINT) stops it cleanly and removes the config directory holding the secrets', async (t) => {
  const file = /"file":"([^"]+)"/.exec(stderr)?.[1] ?? '';
  t.ok(existsSync(file), 'the config is there while dev runs');
  child.kill('SIGINT');
  const [code] = await exited;
  t.equal(code, 0);
  t.match(stderr, /"msg":"stopped"/);
  t.notOk(existsSync(dirname(file)), 'the temporary directory is gone');
});
