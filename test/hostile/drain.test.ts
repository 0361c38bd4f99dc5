/**
 * Lifecycle faults against the built CLI:
 * - the IdP is down when the sidecar starts and comes back later: with `refresh_interval: 1h`
 *   only the start-up retries can load the keys, and `/readyz` turns 200 within one backoff
 *   step (plus the fetch timeout) of the recovery;
 * - SIGTERM under load with `shutdown_delay`: `/readyz` answers 503 at once and throughout the
 *   delay, the main port keeps accepting during it, a client that stops sending when `/readyz`
 *   turns 503 sees no refused or failed request, then the main port stops accepting while
 *   the admin port still answers 503 until the process exits 0.
 */
import t from 'tap';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../support/http.js';
import type { HttpResponse } from '../support/http.js';
import { faultyIssuerYaml, startFaultyIdp } from '../support/faulty-idp.js';
import { startEchoUpstream } from '../../src/dev/echo-upstream.js';
import { RETRY_BACKOFF } from '../../src/verify/key-store.js';
import { startSidecarProcess } from '../support/sidecar.js';
import { bearer, eventually, startEnv } from './support.js';

/** The request's answer, or the error code when the connection fails. */
async function attempt(url: string, headers: Record<string, string> = {}): Promise<HttpResponse | string> {
  try {
    return await http(url, { headers });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** The backoff step in effect `elapsedMs` after the first failed load (1 s, 2 s, 4 s … 30 s). */
function stepAt(elapsedMs: number): number {
  let step: number = RETRY_BACKOFF.firstMs;
  for (let due = step; due <= elapsedMs; due += step) step = Math.min(step * 2, RETRY_BACKOFF.maxMs);
  return step;
}

t.test('IdP down at start, back later: ready within one backoff step, without a restart', async (t) => {
  const idp = await startFaultyIdp({ mode: 'down' });
  t.teardown(() => idp.close());
  const env = await startEnv(t, { issuers: faultyIssuerYaml(idp, { refresh: '1h', minRefresh: '1h' }) });
  const started = Date.now();
  const admin = env.sidecar.adminUrl;
  t.equal((await http(`${admin}/readyz`)).status, 503, 'not ready while the IdP is down');
  const denied = await http(`${env.sidecar.url}/x`, { headers: bearer(await idp.token()) });
  t.equal(denied.status, 503, 'tokens cannot be judged: 503');
  t.equal(denied.json().error, 'auth_unavailable');

  await sleep(3_500); // a few failed retries, so the backoff has grown past its first step
  await idp.setMode('ok');
  const elapsed = Date.now() - started;
  // One step from the recovery, plus the fetch timeout (500ms) and slack for a busy machine.
  const bound = stepAt(elapsed) + 500 + 3_000;
  t.ok(await eventually(async () => (await http(`${admin}/readyz`)).status === 200, bound), `ready within one backoff step (bound ${bound} ms)`);
  t.equal((await http(`${env.sidecar.url}/x`, { headers: bearer(await idp.token()) })).status, 200, 'tokens pass');
  t.ok(
    env.sidecar.stderr().some((l) => l.includes('"cause":"startup"') && l.includes('"keys":1')),
    'the keys came from a start-up retry (the interval is an hour)',
  );
});

t.test('SIGTERM under load with shutdown_delay: nothing refused, nothing failed', async (t) => {
  const idp = await startFaultyIdp();
  const upstream = await startEchoUpstream();
  t.teardown(async () => {
    await upstream.close();
    await idp.close();
  });
  const sidecar = await startSidecarProcess(`listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
issuers:
${faultyIssuerYaml(idp, { refresh: '1h' })}routes:
  - name: app
    match: { path: / }
    upstream: ${upstream.url}
shutdown_delay: 3s
shutdown_timeout: 10s
`);
  t.teardown(() => sidecar.stop());
  const token = await idp.token();
  const auth = bearer(token);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  t.teardown(() => agent.destroy());

  let stop = false;
  const failures: string[] = [];
  let answered = 0;
  const client = async (): Promise<void> => {
    while (!stop) {
      try {
        const res = await new Promise<number>((resolve, reject) => {
          const req = request(`${sidecar.url}/load`, { headers: auth, agent }, (r) => {
            r.resume();
            r.on('end', () => resolve(r.statusCode ?? 0));
            r.on('error', reject);
          });
          req.on('error', reject);
          req.end();
        });
        if (res === 200) answered += 1;
        else failures.push(`status ${res}`);
      } catch (err) {
        failures.push((err as NodeJS.ErrnoException).code ?? String(err));
      }
    }
  };
  const readiness: Array<number | string> = [];
  const poller = (async () => {
    for (;;) {
      const r = await attempt(`${sidecar.adminUrl}/readyz`);
      readiness.push(typeof r === 'string' ? r : r.status);
      if (typeof r === 'string' || r.status !== 200) return;
      await sleep(20);
    }
  })();

  const clients = Array.from({ length: 4 }, client);
  t.ok(await eventually(() => answered >= 20), 'load is flowing');
  sidecar.signal('SIGTERM');
  await poller;
  stop = true; // the client stops sending once /readyz says 503, as a load balancer would
  await Promise.all(clients);
  t.equal(readiness.at(-1), 503, '/readyz answers 503 after the signal');
  t.same(failures, [], 'no request refused or failed');
  t.ok(answered >= 20, `answered ${answered}`);

  // Still inside the delay: the main port accepts new connections and answers normally.
  const during = await attempt(`${sidecar.url}/during-delay`, auth);
  t.equal(typeof during === 'string' ? during : during.status, 200, 'the main port still accepts during shutdown_delay');
  t.equal((await http(`${sidecar.adminUrl}/readyz`)).status, 503, 'and /readyz stays 503');

  // A request in flight past the delay keeps the process alive while the main port is closed.
  const slow = attempt(`${sidecar.url}/slow?ms=6000`, auth);
  t.ok(
    await eventually(async () => typeof (await attempt(`${sidecar.url}/after-delay`, auth)) === 'string', 15_000),
    'after the delay the main port stops accepting',
  );
  const late = await attempt(`${sidecar.adminUrl}/readyz`);
  t.equal(typeof late === 'string' ? late : late.status, 503, 'the admin port still answers 503 while requests finish');
  const finished = await slow;
  t.equal(typeof finished === 'string' ? finished : finished.status, 200, 'the request in flight completes');
  t.equal(await sidecar.exited(), 0, 'exit 0');
});
