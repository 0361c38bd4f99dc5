/**
 * Verifier micro-benchmark: portcullis's own verifier against jose `jwtVerify` on the same
 * RS256 token, with the verified-token cache off, in this one process.
 *
 *   npm run build && node bench/verifier.js          # 5 rounds of 1 s per contender
 *   BENCH_ROUNDS=9 BENCH_ROUND_MS=2000 node bench/verifier.js
 *
 * Contenders (every one refuses nothing the others accept on this token; the differential
 * test proves the wider agreement):
 *   portcullis      createVerifier (cache size 0) over a key store filled from a loopback JWKS
 *   jose            jwtVerify with a local JWKS and the equivalent options
 *   pre-checks+jose what "both paths on jose" would cost: portcullis's parse and claim checks,
 *                   then jwtVerify
 *
 * Each round runs every contender in turn (so a load spike on a shared machine hits all of
 * them), serially (one verify awaited at a time) and then with 16 in flight. Printed: the
 * median ops/s over the rounds, the CPU time per op of this process (jose's WebCrypto verify
 * runs on the libuv pool, which is counted too), and ratios to portcullis.
 */
import { SignJWT, createLocalJWKSet, jwtVerify } from 'jose';
import { createKeyStore, createVerifier } from '../dist/verify/index.js';
import { checkClaims } from '../dist/verify/claims.js';
import { parseCompact } from '../dist/verify/jws.js';
import { median } from './lib/stats.js';
import { createKey, startJwks } from './lib/tokens.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);
const IN_FLIGHT = 16;
const NOW_MS = Date.UTC(2030, 0, 1);
const NOW_SEC = NOW_MS / 1000;

const key = createKey();
const jwksServer = await startJwks(key);
const issuer = {
  name: 'bench',
  issuer: jwksServer.url,
  jwksUri: undefined,
  audiences: ['api'],
  algorithms: ['RS256'],
  clockSkewSec: 30,
  jwks: { refreshIntervalMs: 600_000, minRefreshIntervalMs: 30_000, timeoutMs: 2_000, maxStaleMs: 86_400_000 },
  claims: { user: 'sub', email: 'email', username: 'preferred_username', groups: 'groups', roles: ['realm_access.roles'] },
  secret: undefined,
};
// A Keycloak-sized access token.
const token = await new SignJWT({
  iss: jwksServer.url,
  sub: '5f8c7a2e-1b9d-4c3e-8a7f-2d6b9e0c4a1f',
  aud: ['api', 'account'],
  exp: NOW_SEC + 300,
  iat: NOW_SEC - 10,
  jti: 'b0e3c7d4-9a1f-4e2b-8c6d-3f5a7e9b1c2d',
  typ: 'Bearer',
  azp: 'portcullis',
  scope: 'openid profile email',
  email: 'ada@example.com',
  email_verified: true,
  preferred_username: 'ada',
  groups: ['/acme/data', '/acme/ops'],
  realm_access: { roles: ['analyst', 'offline_access', 'uma_authorization'] },
})
  .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
  .sign(key.privateKey);

const now = () => NOW_MS;
const store = createKeyStore(issuer, { now });
await store.start();
const verifier = createVerifier([issuer], new Map([[issuer.name, store]]), { cacheSize: 0, now });
const jwks = createLocalJWKSet({ keys: [key.jwk] });
const joseOptions = {
  issuer: issuer.issuer,
  audience: issuer.audiences,
  algorithms: [...issuer.algorithms],
  clockTolerance: issuer.clockSkewSec,
  currentDate: new Date(NOW_MS),
  requiredClaims: ['exp', 'sub'],
};

const contenders = {
  portcullis: async () => (await verifier.verify(token)).ok,
  jose: async () => (await jwtVerify(token, jwks, joseOptions)).payload.sub !== undefined,
  'pre-checks+jose': async () => {
    const parsed = parseCompact(token);
    if (!parsed.ok || !checkClaims(parsed.jws.payload, issuer, now()).ok) return false;
    return (await jwtVerify(token, jwks, joseOptions)).payload.sub !== undefined;
  },
};

for (const [name, run] of Object.entries(contenders)) {
  if (!(await run())) throw new Error(`${name} refused the benchmark token`);
}

/** Runs `fn` with `width` calls in flight for `ms`; ops/s and CPU µs per op. */
async function timed(fn, width, ms) {
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(ms) * 1_000_000n;
  const lane = async () => {
    while (process.hrtime.bigint() < end) {
      await fn();
      ops += 1;
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { opsPerSec: ops / seconds, cpuMicrosPerOp: (cpu.user + cpu.system) / ops };
}

const results = {};
for (const mode of [
  { label: 'serial', width: 1 },
  { label: `${IN_FLIGHT} in flight`, width: IN_FLIGHT },
]) {
  for (const run of Object.values(contenders)) await timed(run, mode.width, 200); // warm-up
  const samples = Object.fromEntries(Object.keys(contenders).map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(contenders)) samples[name].push(await timed(run, mode.width, ROUND_MS));
  }
  results[mode.label] = Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      { opsPerSec: median(s.map((x) => x.opsPerSec)), cpuMicrosPerOp: median(s.map((x) => x.cpuMicrosPerOp)) },
    ]),
  );
}

store.close();
await jwksServer.close();

console.log(`node ${process.version}, token ${token.length} chars, RS256 (2048-bit), cache off, ${ROUNDS} x ${ROUND_MS} ms rounds, medians`);
console.log(`${'mode'.padEnd(14)}${'contender'.padEnd(18)}${'ops/s'.padStart(10)}${'CPU µs/op'.padStart(12)}${'ops/s vs portcullis'.padStart(22)}`);
for (const [mode, byName] of Object.entries(results)) {
  const base = byName.portcullis.opsPerSec;
  for (const [name, r] of Object.entries(byName)) {
    console.log(
      `${mode.padEnd(14)}${name.padEnd(18)}${r.opsPerSec.toFixed(0).padStart(10)}${r.cpuMicrosPerOp.toFixed(1).padStart(12)}${(r.opsPerSec / base).toFixed(2).padStart(21)}x`,
    );
  }
}
console.log(JSON.stringify({ bench: 'verifier', node: process.version, rounds: ROUNDS, roundMs: ROUND_MS, results }));
