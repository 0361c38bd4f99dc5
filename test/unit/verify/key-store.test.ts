import t from 'tap';
import type { Test } from 'tap';
import { createKeyStore } from '../../../src/verify/key-store.js';
import type { KeyStore, KeyStoreDeps } from '../../../src/verify/key-store.js';
import type { RefreshEvent } from '../../../src/verify/types.js';
import type { IssuerConfig } from '../../../src/config/types.js';
import { issuerFor, startJwksServer } from '../../support/jwks-server.js';
import type { JwksServer, Mode } from '../../support/jwks-server.js';
import { randomKid, rsaKey } from '../../support/keys.js';
import { NOW_MS } from '../../support/tokens.js';

const FLOOR = 30_000;
const MAX_STALE = 3_600_000;
const k1 = rsaKey();
const k2 = rsaKey();

interface Fixture {
  server: JwksServer;
  store: KeyStore;
  events: RefreshEvent[];
  clock: { ms: number };
}

async function fixture(
  t: Test,
  opts: { issuer?: Partial<IssuerConfig>; jwks?: Partial<IssuerConfig['jwks']>; deps?: Partial<KeyStoreDeps> } = {},
): Promise<Fixture> {
  const server = await startJwksServer([k1.jwk]);
  const clock = { ms: NOW_MS };
  const events: RefreshEvent[] = [];
  const base = issuerFor(server);
  const issuer = issuerFor(server, {
    jwks: { ...base.jwks, minRefreshIntervalMs: FLOOR, maxStaleMs: MAX_STALE, timeoutMs: 2_000, ...opts.jwks },
    ...opts.issuer,
  });
  const store = createKeyStore(issuer, {
    now: () => clock.ms,
    events: { onRefresh: (e) => events.push(e) },
    // Start-up retries far away unless a test is about them: each test counts its fetches.
    retry: { firstMs: 3_600_000, maxMs: 3_600_000 },
    ...opts.deps,
  });
  t.teardown(() => {
    store.close();
    return server.close();
  });
  return { server, store, events, clock };
}

t.test('startup loads the keys through discovery', async (t) => {
  const { server, store, events } = await fixture(t);
  await store.start();
  t.equal(store.isReady(), true, 'ready');
  t.equal(store.keyCount(), 1, 'one key');
  t.same(server.hits, { discovery: 1, jwks: 1 }, 'one discovery, one JWKS fetch');
  t.same(events, [{ issuer: 'main', cause: 'startup', result: 'ok', keys: 1 }], 'startup event');
  const got = await store.getKey(k1.kid, 'RS256');
  t.equal(got.ok && got.key.asymmetricKeyType, 'rsa', 'the published key is served');
  t.same(await store.getKey(k1.kid, 'PS256'), { ok: false, reason: 'unknown_kid' }, 'the key only serves its own alg');
  t.equal(server.hits.jwks, 1, 'a known kid with another alg does not refetch');
});

t.test('an explicit jwks_uri skips discovery and is reused', async (t) => {
  const server = await startJwksServer([k1.jwk]);
  t.teardown(() => server.close());
  const store = createKeyStore(issuerFor(server, { jwksUri: server.jwksUri }));
  await store.start();
  await store.refresh('interval');
  store.close();
  t.same(server.hits, { discovery: 0, jwks: 2 }, 'no discovery');
});

t.test('discovery is done once, then its jwks_uri is reused', async (t) => {
  const { server, store } = await fixture(t);
  await store.start();
  await store.refresh('interval');
  t.same(server.hits, { discovery: 1, jwks: 2 }, 'one discovery for two JWKS fetches');
});

t.test('background refresh on the interval picks up rotated keys', async (t) => {
  const { server, store, events } = await fixture(t, { jwks: { refreshIntervalMs: 20 } });
  await store.start();
  server.setKeys([k2.jwk]);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (events.some((e) => e.cause === 'interval')) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  store.close();
  const interval = events.find((e) => e.cause === 'interval');
  t.same(interval, { issuer: 'main', cause: 'interval', result: 'ok', keys: 1 }, 'interval event');
  t.equal((await store.getKey(k2.kid, 'RS256')).ok, true, 'the new key is served');
  t.same(await store.getKey(k1.kid, 'RS256'), { ok: false, reason: 'unknown_kid' }, 'the removed key is gone');
});

const failures: { name: string; mode: Mode; endpoint: 'discovery' | 'jwks'; detail: string; timeoutMs?: number }[] = [
  { name: 'HTTP 500 on the JWKS', endpoint: 'jwks', mode: 'error500', detail: 'jwks: HTTP 500' },
  { name: 'HTTP 500 on discovery', endpoint: 'discovery', mode: 'error500', detail: 'discovery: HTTP 500' },
  { name: 'a redirect is not followed', endpoint: 'jwks', mode: 'redirect', detail: 'jwks: HTTP 302' },
  { name: 'a discovery redirect is not followed', endpoint: 'discovery', mode: 'redirect', detail: 'discovery: HTTP 302' },
  { name: 'garbage instead of JSON', endpoint: 'jwks', mode: 'garbage', detail: 'jwks: invalid JSON' },
  { name: 'a chunked 2 MiB body is cut at 1 MiB', endpoint: 'jwks', mode: 'huge', detail: 'jwks: body over 1 MiB' },
  { name: 'a declared 2 MiB body is refused', endpoint: 'jwks', mode: 'huge-declared', detail: 'jwks: body over 1 MiB' },
  { name: 'a drip-fed body hits the total deadline', endpoint: 'jwks', mode: 'drip', detail: 'jwks: timeout', timeoutMs: 300 },
  { name: 'a hanging server hits the deadline', endpoint: 'jwks', mode: 'hang', detail: 'jwks: timeout', timeoutMs: 300 },
  { name: 'a hanging discovery hits the deadline', endpoint: 'discovery', mode: 'hang', detail: 'discovery: timeout', timeoutMs: 300 },
];

for (const row of failures) {
  t.test(`startup fails: ${row.name}`, async (t) => {
    const { server, store, events } = await fixture(t, { jwks: row.timeoutMs === undefined ? {} : { timeoutMs: row.timeoutMs } });
    server.modes[row.endpoint] = row.mode;
    await store.start();
    t.equal(store.isReady(), false, 'not ready');
    t.same(events, [{ issuer: 'main', cause: 'startup', result: 'error', keys: 0, detail: row.detail }], 'error event');
    t.same(await store.getKey(k1.kid, 'RS256'), { ok: false, reason: 'auth_unavailable' }, 'no keys: auth_unavailable');
    t.equal(server.hits.jwks, row.endpoint === 'jwks' ? 1 : 0, 'no second fetch within the floor, no redirect target fetched');
  });
}

t.test('discovery: the document must name the configured issuer exactly', async (t) => {
  const { server, store, events } = await fixture(t);
  server.setDiscoveryDocument({ issuer: `${server.url}/`, jwks_uri: server.jwksUri });
  await store.start();
  t.equal(events[0]?.detail, 'discovery: issuer mismatch', 'refused');
  t.equal(server.hits.jwks, 0, 'the JWKS of a mismatching document is never fetched');
});

t.test('discovery: the document must be a JSON object', async (t) => {
  const { server, store, events } = await fixture(t);
  server.setDiscoveryDocument([server.jwksUri]);
  await store.start();
  t.equal(events[0]?.detail, 'discovery: not a JSON object', 'refused');
});

t.test('discovery: jwks_uri must be https (or http on loopback)', async (t) => {
  const { server, store, events } = await fixture(t);
  server.setDiscoveryDocument({ issuer: server.url, jwks_uri: 'http://idp.example.com/jwks' });
  await store.start();
  t.equal(events[0]?.detail, 'discovery: jwks_uri not an https URL', 'refused');
});

t.test('a burst of 1,000 random unknown kids causes exactly one fetch', async (t) => {
  const { server, store, clock, events } = await fixture(t);
  await store.start();
  clock.ms += FLOOR;
  const results = await Promise.all(Array.from({ length: 1000 }, () => store.getKey(randomKid(), 'RS256')));
  t.equal(server.hits.jwks, 2, 'startup + one refetch');
  t.ok(results.every((r) => !r.ok && r.reason === 'unknown_kid'), 'every call: unknown_kid');
  t.same(events.map((e) => e.cause), ['startup', 'unknown_kid'], 'refetch counted as unknown_kid');
});

t.test('the floor counts from the last attempt, failed or not', async (t) => {
  const { server, store, clock } = await fixture(t);
  await store.start();
  server.modes.jwks = 'error500';
  await store.refresh('interval');
  t.equal(server.hits.jwks, 2, 'a failed interval attempt');
  clock.ms += FLOOR - 1;
  t.same(await store.getKey('nope', 'RS256'), { ok: false, reason: 'unknown_kid' }, 'cooling down: answered at once');
  t.equal(server.hits.jwks, 2, 'no fetch before the floor');
  clock.ms += 1;
  await store.getKey('nope', 'RS256');
  t.equal(server.hits.jwks, 3, 'one fetch once the floor has passed');
  t.equal(store.isReady(), true, 'the last good keys are kept through failures');
});

t.test('a new kid published by the IdP is found by the first refetch after the floor', async (t) => {
  const { server, store, clock } = await fixture(t);
  await store.start();
  clock.ms += FLOOR;
  await store.getKey(randomKid(), 'RS256');
  server.setKeys([k1.jwk, k2.jwk]);
  clock.ms += 1_000;
  t.same(await store.getKey(k2.kid, 'RS256'), { ok: false, reason: 'unknown_kid' }, 'flood refetch used the floor');
  clock.ms += FLOOR;
  t.equal((await store.getKey(k2.kid, 'RS256')).ok, true, 'found after the floor');
  t.equal(server.hits.jwks, 3, 'startup, flood refetch, new-kid refetch');
});

t.test('stale keys are served up to max_stale, then dropped', async (t) => {
  const { server, store, clock } = await fixture(t);
  await store.start();
  server.modes.jwks = 'error500';
  clock.ms += MAX_STALE;
  await store.refresh('interval');
  t.equal(store.isReady(), true, 'at max_stale: still ready');
  t.equal((await store.getKey(k1.kid, 'RS256')).ok, true, 'stale key served');
  clock.ms += 1;
  t.equal(store.isReady(), false, 'past max_stale: not ready');
  t.equal(store.keyCount(), 0, 'keys dropped');
  t.same(await store.getKey(k1.kid, 'RS256'), { ok: false, reason: 'auth_unavailable' }, 'auth_unavailable');
});

t.test('a refresh replaces the whole set: removed keys stop working', async (t) => {
  const { server, store } = await fixture(t);
  await store.start();
  server.setKeys([k2.jwk]);
  await store.refresh('interval');
  t.same(await store.getKey(k1.kid, 'RS256'), { ok: false, reason: 'unknown_kid' }, 'removed key refused');
  t.equal((await store.getKey(k2.kid, 'RS256')).ok, true, 'new key served');
});

t.test('a failed refresh keeps the last good set and reports it', async (t) => {
  const { server, store, events } = await fixture(t);
  await store.start();
  server.modes.jwks = 'garbage';
  await store.refresh('interval');
  t.same(events[1], { issuer: 'main', cause: 'interval', result: 'error', keys: 1, detail: 'jwks: invalid JSON' }, 'error event');
  t.equal((await store.getKey(k1.kid, 'RS256')).ok, true, 'old key still served');
});

t.test('a JWKS without a usable key is a failure, not an empty set', async (t) => {
  const { server, store, events } = await fixture(t);
  await store.start();
  server.setKeys([{ ...k2.jwk, use: 'enc' }]);
  await store.refresh('interval');
  t.equal(events[1]?.detail, 'jwks: no usable signing keys', 'refused');
  t.equal((await store.getKey(k1.kid, 'RS256')).ok, true, 'old key still served');
});

t.test('never loaded: getKey triggers a load (same floor) and waits for it', async (t) => {
  const { server, store, clock, events } = await fixture(t);
  server.modes.jwks = 'error500';
  await store.start();
  server.modes.jwks = 'ok';
  t.same(await store.getKey(k1.kid, 'RS256'), { ok: false, reason: 'auth_unavailable' }, 'within the floor: no fetch');
  t.equal(server.hits.jwks, 1, 'one attempt so far');
  clock.ms += FLOOR;
  t.equal((await store.getKey(k1.kid, 'RS256')).ok, true, 'the load it triggered served the key');
  t.same(events.map((e) => `${e.cause}:${e.result}`), ['startup:error', 'startup:ok'], 'counted as startup');
});

/** Polls `check` every 10 ms; false after `timeoutMs` (a bound on the wait, not a measurement). */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

t.test('never loaded: retried with backoff until the first success, then no more retries', async (t) => {
  const { server, store, events } = await fixture(t, { deps: { retry: { firstMs: 20, maxMs: 80 } } });
  server.modes.discovery = 'error500';
  await store.start();
  t.equal(store.isReady(), false, 'not ready while the IdP fails');
  t.ok(await eventually(() => events.length >= 4), 'retried on its own, without a request or the interval');
  t.ok(events.every((e) => e.cause === 'startup' && e.result === 'error'), 'each retry is a startup attempt');
  server.modes.discovery = 'ok';
  t.ok(await eventually(() => store.isReady()), 'ready after the IdP recovers');
  const fetches = server.hits.jwks;
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(server.hits.jwks, fetches, 'no retry after the first success (the interval takes over)');
});

t.test('close stops the start-up retries', async (t) => {
  const { server, store } = await fixture(t, { deps: { retry: { firstMs: 20, maxMs: 20 } } });
  server.modes.discovery = 'error500';
  await store.start();
  store.close();
  const hits = server.hits.discovery;
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(server.hits.discovery, hits, 'no attempt after close');
});

t.test('concurrent refreshes share one fetch; getKey joins a fetch in flight', async (t) => {
  const { server, store } = await fixture(t);
  const startup = store.start();
  const joined = store.getKey(k1.kid, 'RS256');
  await Promise.all([startup, store.refresh('interval'), store.refresh('unknown_kid')]);
  t.equal((await joined).ok, true, 'getKey during startup waited for the keys');
  t.equal(server.hits.jwks, 1, 'one fetch');
});

t.test('a token without kid uses the only fitting key, never guesses between several', async (t) => {
  const { server, store, clock } = await fixture(t);
  await store.start();
  t.equal((await store.getKey(undefined, 'RS256')).ok, true, 'one key: used');
  server.setKeys([k1.jwk, k2.jwk]);
  await store.refresh('interval');
  clock.ms += FLOOR;
  t.same(await store.getKey(undefined, 'RS256'), { ok: false, reason: 'unknown_kid' }, 'two keys: unknown_kid');
});

t.test('a throwing refresh hook does not make start reject', async (t) => {
  const { store } = await fixture(t, {
    deps: {
      events: {
        onRefresh: () => {
          throw new Error('hook failed');
        },
      },
    },
  });
  await store.start();
  t.equal(store.isReady(), true, 'loaded anyway');
});

t.test('a secret issuer has a static store with its HMAC key and never fetches', async (t) => {
  const { server } = await fixture(t);
  const store = createKeyStore(issuerFor(server, { secret: 's'.repeat(32), algorithms: ['HS256'] }));
  await store.start();
  await store.refresh('interval');
  t.equal(store.isReady(), true, 'ready at once');
  t.equal(store.keyCount(), 1, 'one key');
  const got = await store.getKey(undefined, 'HS256');
  t.equal(got.ok && got.key.type, 'secret', 'the secret key');
  t.same(await store.getKey(undefined, 'RS256'), { ok: false, reason: 'unknown_kid' }, 'not for RS256');
  store.close();
  t.same(server.hits, { discovery: 0, jwks: 0 }, 'no fetch');
});
