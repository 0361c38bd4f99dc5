/**
 * `portcullis serve` as a real process of the built CLI: fatal start-up errors (bad config,
 * port in use) exit 1 with clear stderr lines; the admin endpoints report health, readiness
 * and version; SIGTERM drains (the request in flight completes, new connections are refused,
 * readiness goes away) and exits 0.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { Test } from 'tap';
import { harness } from '../support/harness.js';
import { http } from '../support/http.js';
import type { Echoed, HttpResponse } from '../support/http.js';
import { startJwksServer } from '../support/jwks-server.js';
import { rsaKey } from '../support/keys.js';
import { mint } from '../support/tokens.js';
import { runCli, startSidecarProcess, writeConfig } from '../support/sidecar.js';

// Six CLI processes and a dev IdP: more than tap's default per-file time on a busy machine.
t.setTimeout(240_000);
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A listening TCP server on 127.0.0.1:0 that holds its port for the test. */
async function occupy(t: Test): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on (bound, read, released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The request's answer, or the error code when the connection fails. */
async function attempt(url: string): Promise<HttpResponse | string> {
  try {
    return await http(url);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** Polls `probe` every 10 ms until `done` holds for its value; gives up after about ten seconds. */
async function until<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 1000; i += 1) {
    const value = await probe();
    if (done(value)) return value;
    await sleep(10);
  }
  throw new Error(`gave up waiting until ${what}`);
}

t.test('fatal start-up errors exit 1', async (t) => {
  const jwks = await startJwksServer();
  t.teardown(() => jwks.close());
  const issuer = `issuers:\n  - name: test\n    issuer: ${jwks.url}\n`;

  t.test('a bad config: FILE:LINE:COL lines on stderr, never ready', async (t) => {
    const file = writeConfig(`listen: 127.0.0.1:0\nlisten_typo: 1\nshutdown_timeout: soon\n${issuer}`);
    const res = await runCli(['serve', '-c', file]);
    t.equal(res.code, 1);
    const problems = res.stderr.split('\n').filter((l) => l.startsWith(`${file}:`));
    t.equal(problems.length, 2, res.stderr);
    t.match(problems[0], `${file}:2:1 listen_typo: `);
    t.match(problems[1], `${file}:3:19 shutdown_timeout: `);
    t.notMatch(res.stderr, /"msg":"ready"/);
  });

  const ports: Array<[string, (port: number) => string]> = [
    ['main', (port) => `listen: 127.0.0.1:${port}\nadmin:\n  listen: 127.0.0.1:0\n`],
    ['admin', (port) => `listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:${port}\n`],
  ];
  for (const [which, listen] of ports) {
    t.test(`the ${which} port already in use: one stderr line that says so`, async (t) => {
      const port = await occupy(t);
      const res = await runCli(['serve', '-c', writeConfig(`${listen(port)}${issuer}`)]);
      t.equal(res.code, 1);
      const lines = res.stderr.split('\n').filter((l) => l.includes('address already in use'));
      t.equal(lines.length, 1, res.stderr);
      t.match(lines[0], `127.0.0.1:${port}`);
      t.notMatch(res.stderr, /"msg":"ready"/);
    });
  }

  t.test('serve without -c and without PORTCULLIS_CONFIG is a usage error (exit 2)', async (t) => {
    const res = await runCli(['serve'], { env: { PORTCULLIS_CONFIG: undefined } });
    t.equal(res.code, 2);
    t.match(res.stderr, /no config file/);
  });
});

t.test('an unreachable only issuer: running but not ready, and decisions fail closed', async (t) => {
  const port = await closedPort();
  const sidecar = await startSidecarProcess(`listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
issuers:
  - name: down
    issuer: http://127.0.0.1:${port}
    jwks: { timeout: 1s }
routes:
  - name: app
    match: { path: / }
`);
  t.teardown(() => sidecar.stop());
  t.equal((await http(`${sidecar.adminUrl}/healthz`)).status, 200, 'healthz: the process runs');
  const ready = await http(`${sidecar.adminUrl}/readyz`);
  t.equal(ready.status, 503);
  t.equal(ready.headers['content-type'], 'application/json');
  t.match(ready.json(), { status: 'not_ready', reason: /keys not loaded.*down/ });
  const now = Math.floor(Date.now() / 1000);
  const token = await mint(rsaKey(), { iss: `http://127.0.0.1:${port}`, sub: 'user-1', exp: now + 300, iat: now });
  const decision = await http(`${sidecar.url}/_auth/verify`, {
    headers: { 'x-original-uri': '/hello', authorization: `Bearer ${token}` },
  });
  t.equal(decision.status, 503, 'forward-auth answers 503 without keys');
  t.equal(decision.json().error, 'auth_unavailable');
  t.ok(decision.headers['retry-after'], 'with Retry-After');
  sidecar.signal('SIGINT');
  t.equal(await sidecar.exited(), 0, 'SIGINT: exit 0');
});

t.test('a running sidecar: admin endpoints, then SIGTERM drains and exits 0', async (t) => {
  const h = await harness(t, { routes: `  - name: app\n    match: { path: / }\n    upstream: {{UPSTREAM}}\n` });
  const alice = await h.login('alice');
  const admin = h.sidecar.adminUrl;

  t.test('healthz, readyz and version', async (t) => {
    const health = await http(`${admin}/healthz`);
    t.equal(health.status, 200);
    t.same(health.json(), { status: 'ok' });
    const ready = await http(`${admin}/readyz`);
    t.equal(ready.status, 200, 'every issuer has keys');
    t.same(ready.json(), { status: 'ready' });
    const version = await http(`${admin}/version`);
    t.equal(version.status, 200);
    t.equal(version.headers['content-type'], 'application/json');
    t.equal(version.json().version, VERSION);
    t.equal(version.json().node, process.version, 'the node that runs it');
  });

  t.test('SIGTERM while a slow request is in flight', async (t) => {
    h.upstream.reset();
    const slow = http(`${h.sidecar.url}/slow?ms=1500`, { headers: { authorization: `Bearer ${alice}` } });
    await until(() => h.upstream.requests().length, (n) => n > 0, 'the slow request reaches the upstream');
    h.sidecar.signal('SIGTERM');

    const readiness = await until(
      () => attempt(`${admin}/readyz`),
      (r) => typeof r === 'string' || r.status !== 200,
      'readiness goes away',
    );
    if (typeof readiness === 'string') t.match(readiness, /^(ECONNREFUSED|ECONNRESET)$/, 'the admin port closed (refused, or reset while closing)');
    else t.match({ status: readiness.status, body: readiness.json() }, { status: 503, body: { reason: 'shutting down' } });

    t.match(await attempt(`${h.sidecar.url}/hello`), /^(ECONNREFUSED|ECONNRESET)$/, 'a new connection after the signal is refused');
    const done = await slow;
    t.equal(done.status, 200, 'the request in flight completes');
    t.equal(done.json<Echoed>().url, '/slow?ms=1500');
    t.equal(await h.sidecar.exited(), 0);
    t.ok(h.sidecar.stderr().some((l) => l.includes('SIGTERM')), 'the shutdown is logged with its signal');
  });
});
