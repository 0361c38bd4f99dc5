/**
 * Slow upstreams and slow clients against the built CLI, with small connection budgets so the
 * pools fill with a handful of requests:
 * - a route's timeout covers waiting for a free pooled connection: 504 `upstream_timeout`,
 *   and the queued request never reaches the upstream;
 * - a client body that stalls past `client_body_timeout` is answered 408 `request_timeout`
 *   and frees its upstream connection (the route's budget is whole again afterwards);
 * - many stalled uploads on a public route cannot starve an authenticated request to another
 *   route of the same upstream;
 * - a stalled body on an endpoint that answers without reading it (forward-auth) gets its
 *   answer, then its connection is closed instead of being held open by the drip.
 * Every client here has a bound; no assertion measures a duration.
 */
import t from 'tap';
import { request } from 'node:http';
import { connect } from 'node:net';
import { http } from '../support/http.js';
import type { HttpResponse } from '../support/http.js';
import { faultyIssuerYaml, startFaultyIdp } from '../support/faulty-idp.js';
import { startFaultyUpstream } from '../support/faulty-upstream.js';
import { auditLine, bearer, eventually, startEnv } from './support.js';

const CLIENT_BOUND_MS = 20_000;

const idp = await startFaultyIdp();
const upstream = await startFaultyUpstream({ dripMs: 3_000 });
t.teardown(async () => {
  await upstream.close();
  await idp.close();
});
const env = await startEnv(t, {
  issuers: faultyIssuerYaml(idp, { refresh: '1h' }),
  routes: `  - name: narrow
    match: { path: /narrow }
    upstream: ${upstream.url}
    strip_prefix: true
    upstream_connections: 2
    timeout: 1s
  - name: bulk
    match: { path: /upload }
    upstream: ${upstream.url}
    auth: public
    upstream_connections: 4
    timeout: 30s
  - name: app
    match: { path: / }
    upstream: ${upstream.url}
    timeout: 5s
`,
  extra: 'client_body_timeout: 1s\n',
});
const token = await idp.token();
const base = env.sidecar.url;

/** An upload that declares `declared` bytes, sends `sent` and then nothing: its answer, or 'no answer'. */
function stalledUpload(declared: number, sent: number): Promise<{ status: number; body: string; closed: boolean } | 'no answer'> {
  return new Promise((resolve) => {
    const req = request(`${base}/upload`, { method: 'POST', headers: { 'content-length': String(declared) }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, closed: res.headers.connection === 'close' }));
    });
    const bound = setTimeout(() => (req.destroy(), resolve('no answer')), CLIENT_BOUND_MS);
    req.on('close', () => clearTimeout(bound));
    req.on('error', () => resolve('no answer'));
    req.write('x'.repeat(sent));
  });
}

/** A bounded request: the answer, or 'no answer' when none came within the bound. */
async function bounded(url: string, headers: Record<string, string> = {}): Promise<HttpResponse | 'no answer'> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'no answer'>((resolve) => (timer = setTimeout(() => resolve('no answer'), CLIENT_BOUND_MS)));
  try {
    return await Promise.race([http(url, { headers }), limit]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('a route timeout while waiting for a pooled connection → 504, and the request never went upstream', async (t) => {
  // Two dripping answers hold the route's two connections (headers came, so they are not late).
  const holders = [bounded(`${base}/narrow/drip`, bearer(token)), bounded(`${base}/narrow/drip`, bearer(token))];
  t.ok(await eventually(() => upstream.hits.get('/drip') === 2), 'both connections of the route are busy');
  const queued = await bounded(`${base}/narrow/queued`, bearer(token));
  t.not(queued, 'no answer', 'answered, not left hanging');
  if (queued === 'no answer') return;
  t.equal(queued.status, 504);
  t.equal(queued.json().error, 'upstream_timeout');
  t.equal((await auditLine(env, queued.headers['x-request-id']))?.status, 504, 'audited as 504');
  t.equal(upstream.hits.get('/queued'), undefined, 'the queued request was withdrawn, never sent');
  for (const held of await Promise.all(holders)) t.equal(held === 'no answer' ? 0 : held.status, 200, 'the dripping answers complete');
  const after = await bounded(`${base}/narrow/queued`, bearer(token));
  t.equal(after === 'no answer' ? 0 : after.status, 200, 'with the connections free again, the same request passes');
});

t.test('a stalled body → 408 request_timeout, the connection closed, the upstream connection freed', async (t) => {
  // Four stalls fill the route's whole budget of four; a fifth upload still passes after them.
  const stalled = await Promise.all(Array.from({ length: 4 }, () => stalledUpload(1_000, 100)));
  for (const answer of stalled) {
    t.not(answer, 'no answer', 'answered, not left hanging');
    if (answer === 'no answer') continue;
    t.equal(answer.status, 408);
    t.equal((JSON.parse(answer.body) as { error: string }).error, 'request_timeout');
    t.equal(answer.closed, true, 'Connection: close (the rest of the body is never read)');
  }
  const whole = await new Promise<HttpResponse | 'no answer'>((resolve) => {
    const req = request(`${base}/upload`, { method: 'POST', headers: { 'content-length': '1000' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T }));
    });
    req.setTimeout(CLIENT_BOUND_MS, () => (req.destroy(), resolve('no answer')));
    req.end('y'.repeat(1_000));
  });
  t.not(whole, 'no answer');
  if (whole === 'no answer') return;
  t.equal(whole.status, 200, 'the route has its connections back');
  t.same(whole.json(), { bytes: 1_000 }, 'the whole body reached the upstream');
});

t.test('many stalled uploads on a public route cannot starve another route of the same upstream', async (t) => {
  const uploads = Array.from({ length: 40 }, () => stalledUpload(1_000_000, 10));
  t.ok(await eventually(() => (upstream.hits.get('/upload') ?? 0) >= 4 + 1 + 4), "the uploads hold the bulk route's connections");
  const other = await bounded(`${base}/api/orders`, bearer(token));
  t.not(other, 'no answer', 'answered, not left hanging');
  if (other !== 'no answer') t.equal(other.status, 200, 'the other route answers at once (its own pool)');
  for (const answer of await Promise.all(uploads)) {
    t.not(answer, 'no answer', 'every stalled upload got an answer');
    if (answer !== 'no answer') t.equal(answer.status, 408, 'each stalled upload ends 408');
  }
});

t.test('a stalled body portcullis never reads: answered, then the connection is closed', async (t) => {
  const { hostname, port } = new URL(base);
  const outcome = await new Promise<{ received: string; how: string }>((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const bound = setTimeout(() => (socket.destroy(), resolve({ received, how: 'still open' })), CLIENT_BOUND_MS);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => (clearTimeout(bound), resolve({ received, how: 'closed' })));
    socket.write('POST /_auth/verify HTTP/1.1\r\nHost: x\r\nX-Original-URI: /x\r\nContent-Length: 1000\r\n\r\nabc');
  });
  t.match(outcome.received, /^HTTP\/1\.1 401 /, 'the forward-auth answer came first');
  t.equal(outcome.how, 'closed', 'the server closed the stalled connection');
});
