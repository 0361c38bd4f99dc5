/**
 * Soak test (`npm run soak`, SOAK_SECONDS, default 60): the dev IdP, the echo upstream and the
 * built sidecar as a process under a mixed load — valid and invalid tokens, random-kid floods,
 * public requests, requests through a slow plug-in authenticator, clients that abort
 * mid-request or mid-body, WebSocket churn — with a SIGHUP reload every ~10 s, a SIGHUP sent
 * while a slow plug-in request is inside the plug-in every ~3 s, and a final SIGTERM. The IdP
 * is down when the sidecar starts and comes up ~2 s later: `/readyz` must turn 200 within one
 * start-up retry step. It checks that every request got an answer (none lost, none hung past
 * its client timeout), that the upstream received exactly the allowed requests, that open
 * descriptors, RSS and metric series stay flat (first vs last quarter), and that the process
 * exits 0. Prints its figures (one `SOAK {json}` line); exits 1 on failure.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../dist/cli/dev.js';
import { startDevIdp } from '../dist/dev/idp.js';
import { startEchoUpstream } from '../dist/dev/echo-upstream.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONCURRENCY = 8;
const CLIENT_TIMEOUT_MS = 10_000;
const RELOAD_EVERY_MS = 10_000;
const SAMPLE_EVERY_MS = 1_000;
const SLOW_RELOAD_EVERY_MS = 3_000;
/** How long the slow plug-in holds each request it owns. */
const PLUGIN_DELAY_MS = 400;
/** The IdP's outage at start-up, and the bound on readiness after it: the start-up retry step then in effect (2 s) plus slack. */
const IDP_OUTAGE_MS = 2_000;
const READY_BOUND_MS = 2_000 + 8_000;

/** A plug-in that owns requests with `x-soak-key`, answers after a pause, and refuses to work once closed. */
const SLOW_PLUGIN = `export default function create(options) {
  let open = true;
  return {
    name: 'slow-keys',
    async authenticate(request) {
      if (request.headers['x-soak-key'] !== options.key) return null;
      await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (!open) throw new Error('slow-keys: used after close');
      return { user: 'soak-bot', groups: [], roles: [], issuer: 'slow-keys', claims: { sub: 'soak-bot' } };
    },
    close() {
      open = false;
    },
  };
}
`;
const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
function forged(iss, kid, claims = {}) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'RS256', kid })}.${b64({ iss, sub: 'x', aud: 'api', exp: now + 300, ...claims })}`;
  return `${input}.${sign('sha256', Buffer.from(input), attacker).toString('base64url')}`;
}

function startSidecar(configFile) {
  const child = spawn(process.execPath, [CLI, 'serve', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = [];
  let buf = '';
  child.stderr.setEncoding('utf8').on('data', (c) => {
    buf += c;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) lines.push(buf.slice(0, i));
  });
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const ready = new Promise((res, rej) => {
    const timer = setInterval(() => {
      const line = lines.find((l) => l.includes('"msg":"ready"'));
      if (line) {
        clearInterval(timer);
        res(JSON.parse(line));
      }
    }, 50);
    void exited.then(() => (clearInterval(timer), rej(new Error(`sidecar exited:\n${lines.join('\n')}`))));
  });
  return { child, lines, exited, ready };
}

/** One HTTP exchange with a client timeout; `abortAfterMs` destroys it mid-flight on purpose. */
function exchange(url, { method = 'GET', headers = {}, body, partialBody, abortAfterMs } = {}) {
  return new Promise((done) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode }));
      res.on('error', () => done({ error: 'response_error' }));
    });
    req.setTimeout(CLIENT_TIMEOUT_MS, () => (req.destroy(), done({ error: 'hung' })));
    req.on('error', (err) => done({ error: abortAfterMs === undefined ? err.code ?? 'error' : 'aborted' }));
    if (abortAfterMs !== undefined) setTimeout(() => (req.destroy(), done({ error: 'aborted' })), abortAfterMs);
    if (partialBody !== undefined) req.write(partialBody);
    else req.end(body);
  });
}

function wsRoundTrip(url, headers) {
  return new Promise((done) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: CLIENT_TIMEOUT_MS });
    const timer = setTimeout(() => (ws.terminate(), done({ error: 'hung' })), CLIENT_TIMEOUT_MS);
    ws.once('open', () => ws.send('ping'));
    ws.once('message', () => ws.close());
    ws.once('close', () => (clearTimeout(timer), done({ status: 101 })));
    ws.once('unexpected-response', (_req, res) => (clearTimeout(timer), res.resume(), done({ status: res.statusCode })));
    ws.once('error', (err) => (clearTimeout(timer), done({ error: err.code ?? 'ws_error' })));
  });
}

function procFigures(pid) {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { fds, rssMb: rssKb / 1024 };
}

async function seriesCount(adminUrl) {
  const res = await fetch(`${adminUrl}/metrics`);
  return (await res.text()).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
}

const quarterAvg = (xs, which) => {
  const q = Math.max(1, Math.floor(xs.length / 4));
  const part = which === 'first' ? xs.slice(0, q) : xs.slice(-q);
  return part.reduce((a, b) => a + b, 0) / part.length;
};

export async function soak(seconds = SECONDS) {
  const [idpPort, upstream] = await Promise.all([freePort(), startEchoUpstream()]);
  const issuer = `http://127.0.0.1:${idpPort}`;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-soak-'));
  const configFile = join(dir, 'portcullis.yaml');
  writeFileSync(join(dir, 'slow-plugin.js'), SLOW_PLUGIN);
  const config = `listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\nissuers:\n  - name: idp\n    issuer: ${issuer}\n    audiences: [api]\n    jwks:\n      min_refresh_interval: 1s\n      refresh_interval: 5s\nroutes:\n  - name: public\n    match: { path: /public }\n    upstream: ${upstream.url}\n    auth: public\n  - name: app\n    match: { path: / }\n    upstream: ${upstream.url}\nauthenticators:\n  - type: module\n    path: ./slow-plugin.js\n    options: { key: soak, delayMs: ${PLUGIN_DELAY_MS} }\n  - type: jwt\naudit:\n  output: ${join(dir, 'audit.log')}\n  allowed: false\nmetrics:\n  token_series_limit: 50\nshutdown_timeout: 5s\n`;
  writeFileSync(configFile, config);
  const sidecar = startSidecar(configFile);
  const failures = [];
  let ready;
  try {
    ready = await sidecar.ready;
  } catch (err) {
    await upstream.close();
    return { ok: false, failures: [String(err)], figures: {} };
  }
  const base = `http://${ready.listen}`;
  const admin = `http://${ready.admin}`;
  const readyz = () => fetch(`${admin}/readyz`).then((r) => r.status, () => 0);
  const notReadyDuringOutage = (await readyz()) === 503;
  await new Promise((r) => setTimeout(r, IDP_OUTAGE_MS));
  const idp = await startDevIdp({ port: idpPort });
  let readyAfterOutage = false;
  for (const until = Date.now() + READY_BOUND_MS; !readyAfterOutage && Date.now() < until; ) {
    readyAfterOutage = (await readyz()) === 200;
    if (!readyAfterOutage) await new Promise((r) => setTimeout(r, 100));
  }
  if (!notReadyDuringOutage) failures.push('/readyz was not 503 while the IdP was down');
  if (!readyAfterOutage) failures.push(`/readyz not 200 within ${READY_BOUND_MS} ms of the IdP coming up`);
  const pid = sidecar.child.pid;
  const tokens = await Promise.all(['alice', 'bob', 'admin'].map(async (u) => {
    const user = idp.users.find((x) => x.username === u);
    return (await idp.passwordLogin(user.username, user.password)).access_token;
  }));
  const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

  const counts = { allowed: 0, denied: 0, aborted: 0, ws: 0, lost: 0, hung: 0, wrongStatus: 0, reloads: 0, slowPlugin: 0, reloadsInFlight: 0 };
  /** Unexpected answers by status, for the figures. */
  const unexpected = {};
  const wrong = (status) => {
    counts.wrongStatus++;
    unexpected[status] = (unexpected[status] ?? 0) + 1;
  };
  const allowedIds = new Set();
  const deniedIds = new Set();
  const samples = { fds: [], rssMb: [], series: [] };
  let next = 0;
  const deadline = Date.now() + seconds * 1000;

  const invalid = () => pick([
    () => ({}),
    () => ({ authorization: 'Bearer not.a.token' }),
    () => ({ authorization: `Basic ${b64('a:b')}` }),
    () => ({ authorization: `Bearer ${forged(idp.issuer, randomBytes(8).toString('hex'))}` }),
    () => ({ authorization: `Bearer ${forged('https://evil.example', 'k')}` }),
    () => ({ cookie: `access_token=${pick(tokens).slice(0, -4)}AAAA` }),
  ])();

  async function one() {
    const id = next++;
    const roll = Math.random();
    if (roll < 0.35 || (roll >= 0.95)) {
      const path = roll < 0.35 ? `/v?id=${id}` : `/public/p?id=${id}`;
      const r = await exchange(`${base}${path}`, { headers: { authorization: `Bearer ${pick(tokens)}` } });
      if (r.status === 200) {
        counts.allowed++;
        allowedIds.add(id);
      }
      else if (r.error === 'hung') counts.hung++;
      else if (r.error) counts.lost++;
      else wrong(r.status);
    } else if (roll < 0.7) {
      const r = await exchange(`${base}/v?id=${id}`, { headers: invalid() });
      if (r.status === 401) {
        counts.denied++;
        deniedIds.add(id);
      }
      else if (r.error === 'hung') counts.hung++;
      else if (r.error) counts.lost++;
      else wrong(r.status);
    } else if (roll < 0.85) {
      const auth = { authorization: `Bearer ${pick(tokens)}` };
      const r = Math.random() < 0.5
        ? await exchange(`${base}/slow?ms=300&id=${id}`, { headers: auth, abortAfterMs: 20 + Math.random() * 80 })
        : await exchange(`${base}/v?id=${id}`, { method: 'POST', headers: { ...auth, 'content-length': '4096' }, partialBody: 'x'.repeat(100), abortAfterMs: 30 });
      if (r.error === 'hung') counts.hung++;
      else counts.aborted++;
    } else if (roll < 0.9) {
      const r = await exchange(`${base}/v?id=${id}`, { headers: { 'x-soak-key': 'soak' } });
      if (r.status === 200) {
        counts.slowPlugin++;
        allowedIds.add(id);
      }
      else if (r.error === 'hung') counts.hung++;
      else if (r.error) counts.lost++;
      else wrong(r.status);
    } else {
      const r = await wsRoundTrip(`${base.replace('http', 'ws')}/ws?id=${id}`, { authorization: `Bearer ${pick(tokens)}` });
      if (r.status === 101) {
        counts.ws++;
        allowedIds.add(id);
      }
      else if (r.error === 'hung') counts.hung++;
      else counts.lost++;
    }
  }

  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < deadline) await one();
  });
  const reloader = setInterval(() => {
    writeFileSync(configFile, config);
    sidecar.child.kill('SIGHUP');
  }, RELOAD_EVERY_MS);
  // A SIGHUP while a request is inside the slow plug-in: the request must still end 200.
  const inFlightReloads = (async () => {
    while (Date.now() + SLOW_RELOAD_EVERY_MS < deadline) {
      await new Promise((r) => setTimeout(r, SLOW_RELOAD_EVERY_MS));
      const id = next++;
      const pending = exchange(`${base}/v?id=${id}`, { headers: { 'x-soak-key': 'soak' } });
      await new Promise((r) => setTimeout(r, PLUGIN_DELAY_MS / 4));
      sidecar.child.kill('SIGHUP');
      const r = await pending;
      if (r.status === 200) {
        counts.reloadsInFlight++;
        allowedIds.add(id);
      }
      else if (r.error === 'hung') counts.hung++;
      else if (r.error) counts.lost++;
      else wrong(r.status);
    }
  })();
  const sampler = setInterval(() => {
    try {
      const f = procFigures(pid);
      samples.fds.push(f.fds);
      samples.rssMb.push(f.rssMb);
      void seriesCount(admin).then((n) => samples.series.push(n), () => undefined);
    } catch {
      // The process is gone; the exit check below reports it.
    }
  }, SAMPLE_EVERY_MS);
  await Promise.all([...workers, inFlightReloads]);
  clearInterval(reloader);
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 500));

  const seen = new Map();
  for (const r of upstream.requests()) {
    const id = /[?&]id=(\d+)/.exec(r.url)?.[1];
    if (id !== undefined) seen.set(Number(id), (seen.get(Number(id)) ?? 0) + 1);
  }
  const missing = [...allowedIds].filter((id) => seen.get(id) !== 1).length;
  const leaked = [...deniedIds].filter((id) => seen.has(id)).length;
  counts.reloads = sidecar.lines.filter((l) => l.includes('config reloaded')).length;

  sidecar.child.kill('SIGTERM');
  const exit = await Promise.race([sidecar.exited, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 15_000))]);
  if (exit.code === 'timeout') sidecar.child.kill('SIGKILL');
  await Promise.all([idp.close(), upstream.close()]);

  const figures = {
    seconds,
    requests: next,
    ...counts,
    upstreamAllowedMissingOrDuplicated: missing,
    upstreamDeniedLeaked: leaked,
    fds: { first: quarterAvg(samples.fds, 'first'), last: quarterAvg(samples.fds, 'last') },
    rssMb: { first: quarterAvg(samples.rssMb, 'first'), last: quarterAvg(samples.rssMb, 'last') },
    series: { first: quarterAvg(samples.series, 'first'), last: quarterAvg(samples.series, 'last') },
    exitCode: exit.code,
    unexpectedStatuses: unexpected,
    notReadyDuringOutage,
    readyAfterOutage,
  };
  if (counts.lost > 0) failures.push(`${counts.lost} request(s) got no answer`);
  if (counts.hung > 0) failures.push(`${counts.hung} request(s) hung past ${CLIENT_TIMEOUT_MS} ms`);
  if (counts.wrongStatus > 0) failures.push(`${counts.wrongStatus} request(s) got an unexpected status`);
  if (missing > 0) failures.push(`${missing} allowed request(s) not seen exactly once upstream`);
  if (leaked > 0) failures.push(`${leaked} denied request(s) reached the upstream`);
  if (counts.allowed === 0 || counts.denied === 0 || counts.ws === 0 || counts.aborted === 0 || counts.slowPlugin === 0) {
    failures.push('the load mix did not run every kind');
  }
  if (seconds >= 15 && counts.reloadsInFlight === 0) failures.push('no SIGHUP landed with a slow plug-in request in flight');
  if (seconds >= 15 && counts.reloads === 0) failures.push('no SIGHUP reload took effect');
  if (samples.fds.length < 4) failures.push('too few samples of the process');
  if (figures.fds.last > figures.fds.first * 1.5 + 20) failures.push('open descriptors grew');
  if (figures.rssMb.last > figures.rssMb.first * 1.5 + 40) failures.push('RSS grew');
  if (figures.series.last > figures.series.first + 30) failures.push('metric series grew');
  if (exit.code !== 0) failures.push(`exit code ${String(exit.code)} after SIGTERM`);
  return { ok: failures.length === 0, failures, figures };
}

if (process.argv[1] === import.meta.filename) {
  const result = await soak();
  process.stdout.write(`SOAK ${JSON.stringify(result)}\n`);
  for (const f of result.failures) process.stderr.write(`soak: FAIL ${f}\n`);
  process.exitCode = result.ok ? 0 : 1;
}
