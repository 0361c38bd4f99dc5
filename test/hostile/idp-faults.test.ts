/**
 * A misbehaving IdP (docs/decisions.md; docs/security.md "Keys"), one sidecar per failure mode, with
 * fast JWKS timings (refresh 1s, floor 1s, timeout 500ms):
 * - keys never loaded → `/readyz` 503 and every token is 503 `auth_unavailable` + Retry-After,
 *   never a 200, never a crash, nothing upstream;
 * - the IdP recovers → `/readyz` 200 and tokens pass, without a restart;
 * - the same fault after warm-up → the last good keys keep working (stale) and `/readyz` stays
 *   200; a kid the stale set does not hold is 401 `unknown_kid`, not 503;
 * - recovery again → the rotated key is admitted.
 */
import t from 'tap';
import { http } from '../support/http.js';
import { faultyIssuerYaml, startFaultyIdp } from '../support/faulty-idp.js';
import type { FaultyIdp, IdpMode } from '../support/faulty-idp.js';
import { assertStillUp, auditLine, bearer, eventually, startEnv } from './support.js';

const MODES: ReadonlyArray<[IdpMode, string]> = [
  ['down', 'connection refused'],
  ['slow-headers', 'headers slower than the timeout'],
  ['drip', 'body drip-fed past the total deadline'],
  ['huge', 'body over the 1 MiB cap'],
  ['garbage', 'body not JSON'],
  ['error500', 'HTTP 500'],
  ['wrong-issuer', 'discovery names another issuer'],
  ['redirect', 'a redirect (never followed)'],
];

// Each mode waits on 1-second refreshes, not on CPU: run them side by side.
t.jobs = 4;

async function hitsGrow(idp: FaultyIdp, by: number): Promise<boolean> {
  const start = idp.hits.jwks + idp.hits.discovery;
  return eventually(() => idp.hits.jwks + idp.hits.discovery >= start + by);
}

for (const [mode, what] of MODES) {
  t.test(`IdP fault: ${what} (${mode})`, async (t) => {
    const idp = await startFaultyIdp({ mode });
    t.teardown(() => idp.close());
    const env = await startEnv(t, { issuers: faultyIssuerYaml(idp) });
    const admin = env.sidecar.adminUrl;
    let n = 0;
    const fresh = (key = idp.current()): Promise<string> => idp.token({ sub: `user-${mode}-${n++}` }, key);

    const notReady = await http(`${admin}/readyz`);
    t.equal(notReady.status, 503, 'not ready before the first load');
    t.match(notReady.json().reason, /faulty/, 'readyz names the issuer');
    const denied = await http(`${env.sidecar.url}/x`, { headers: bearer(await fresh()) });
    t.equal(denied.status, 503, 'keys never loaded: 503');
    t.equal(denied.json().error, 'auth_unavailable');
    t.match(String(denied.headers['retry-after']), /^\d+$/, 'Retry-After');
    t.equal((await auditLine(env, denied.headers['x-request-id']))?.reason, 'auth_unavailable');
    t.equal(env.upstream.requests().length, 0, 'nothing reached the upstream');
    if (mode === 'redirect') t.equal(idp.hits.redirected, 0, 'the redirect was not followed');

    await idp.setMode('ok');
    t.ok(await eventually(async () => (await http(`${admin}/readyz`)).status === 200), 'ready after the IdP recovers, no restart');
    const warm = await fresh();
    t.equal((await http(`${env.sidecar.url}/x`, { headers: bearer(warm) })).status, 200, 'tokens pass after recovery');

    await idp.setMode(mode);
    if (mode !== 'down') t.ok(await hitsGrow(idp, 2), 'the sidecar kept trying the failing IdP');
    else await new Promise((resolve) => setTimeout(resolve, 1_500));
    t.equal((await http(`${env.sidecar.url}/x`, { headers: bearer(await fresh()) })).status, 200, 'stale keys keep working');
    t.equal((await http(`${admin}/readyz`)).status, 200, 'still ready on stale keys');
    const rotated = idp.rotate({ dropOld: true });
    // With `wrong-issuer` only the discovery document is bad, and discovery is done once: the
    // JWKS itself stays reachable, so a rotated key may be found by a refetch. Every other mode
    // leaves the store on its stale set.
    if (mode !== 'wrong-issuer') {
      const unknown = await http(`${env.sidecar.url}/x`, { headers: bearer(await fresh(rotated)) });
      t.equal(unknown.status, 401, 'a kid outside the stale set is 401');
      t.equal((await auditLine(env, unknown.headers['x-request-id']))?.reason, 'unknown_kid');
    }

    await idp.setMode('ok');
    t.ok(await eventually(async () => (await http(`${env.sidecar.url}/x`, { headers: bearer(await fresh(rotated)) })).status === 200), 'the rotated key is admitted after recovery');
    t.equal(env.upstream.requests().filter((r) => r.url === '/x').length >= 3, true);
    await assertStillUp(t, env);
  });
}

t.test('flapping IdP: once loaded, never a 503 and never not-ready', async (t) => {
  const idp = await startFaultyIdp({ mode: 'flapping' });
  t.teardown(() => idp.close());
  const env = await startEnv(t, { issuers: faultyIssuerYaml(idp) });
  t.ok(await eventually(async () => (await http(`${env.sidecar.adminUrl}/readyz`)).status === 200), 'ready');
  const seen = new Set<number>();
  const start = idp.hits.jwks;
  for (let i = 0; idp.hits.jwks < start + 6 && i < 400; i++) {
    seen.add((await http(`${env.sidecar.url}/x`, { headers: bearer(await idp.token({ sub: `f${i}` })) })).status);
    seen.add((await http(`${env.sidecar.adminUrl}/readyz`)).status);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.ok(idp.hits.jwks >= start + 6, 'several refreshes, half of them failing, happened');
  t.same([...seen], [200], 'every request and every probe answered 200');
});

t.test('key rotation with the old key removed: new kid admitted, old kid refused after the refresh', async (t) => {
  const idp = await startFaultyIdp();
  t.teardown(() => idp.close());
  const env = await startEnv(t, { issuers: faultyIssuerYaml(idp) });
  const old = idp.current();
  t.equal((await http(`${env.sidecar.url}/x`, { headers: bearer(await idp.token({ sub: 'a' })) })).status, 200);
  const next = idp.rotate({ dropOld: true });
  t.ok(await eventually(async () => (await http(`${env.sidecar.url}/x`, { headers: bearer(await idp.token({ sub: 'b' }, next)) })).status === 200), 'new kid: refetched and admitted once the floor allows');
  const res = await http(`${env.sidecar.url}/x`, { headers: bearer(await idp.token({ sub: 'c' }, old)) });
  t.equal(res.status, 401, 'the removed key no longer verifies new tokens');
  t.equal((await auditLine(env, res.headers['x-request-id']))?.reason, 'unknown_kid');
});
