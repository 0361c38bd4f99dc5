/**
 * One scenario's measurement, in three steps so that the rounds of every scenario can be
 * interleaved (bench/run.js): `prepare` (a sanity request — the scenario must answer what it
 * claims, or its figures mean nothing —, the prefill where asked, the warm-up), `timedRound` (one
 * timed round with every server's CPU ticks read from /proc before and after it, the subject's
 * RSS sampled each second and the JWKS fetches counted during it), and `summarise` (the sidecar's
 * token-cache counters and heap figures read right after the last round, every figure the median
 * of the rounds).
 */
import { readFileSync } from 'node:fs';
import { peakRssMb, rssMb, ticksToMicros, treeTicks } from './proc.js';
import { runLoad } from './load.js';
import { median } from './stats.js';

const COUNTERS = ['portcullis_verified_token_cache_hits_total', 'portcullis_verified_token_cache_misses_total'];

/** `sum(prefix)`: the sum of the samples whose line starts with `prefix` in the admin /metrics. */
async function metricSums(adminUrl) {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const lines = text.split('\n');
  return (prefix) => lines.filter((l) => l.startsWith(prefix)).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Sums of the cache hit/miss counters from the admin /metrics, or undefined without one. */
async function cacheCounters(adminUrl) {
  if (adminUrl === undefined) return undefined;
  const sum = await metricSums(adminUrl);
  const [hits, misses] = COUNTERS.map(sum);
  return { hits: /** @type {number} */ (hits), misses: /** @type {number} */ (misses) };
}

/**
 * The sidecar's memory as Node reports it on the admin /metrics (prom-client's default
 * metrics), in MB: V8 heap committed and used, new space committed (young generation), memory
 * outside the V8 heap that V8 tracks (Buffers, native objects), and RSS.
 */
export async function heapFigures(adminUrl) {
  if (adminUrl === undefined) return undefined;
  const sum = await metricSums(adminUrl);
  const mb = (prefix) => Math.round((sum(prefix) / 1024 / 1024) * 10) / 10;
  return {
    rssMb: mb('process_resident_memory_bytes '),
    heapTotalMb: mb('nodejs_heap_size_total_bytes '),
    heapUsedMb: mb('nodejs_heap_size_used_bytes '),
    newSpaceMb: mb('nodejs_heap_space_size_total_bytes{space="new"}'),
    externalMb: mb('nodejs_external_memory_bytes '),
  };
}

/** Asserts one request answers `expect`; throws with the status and a bit of the body. */
async function sanity(url, headers, expect) {
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== expect) throw new Error(`sanity request to ${url} answered ${res.status}, expected ${expect}: ${body.slice(0, 200)}`);
}

/** Sends every token of `file` once (16 at a time), so the timed run starts on a full cache. */
export async function prefill(url, headers, file, expect) {
  const tokens = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  let next = 0;
  const lane = async () => {
    while (next < tokens.length) {
      const token = tokens[next++];
      const res = await fetch(url, { headers: { ...headers, authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== expect) throw new Error(`prefill request answered ${res.status}, expected ${expect}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
}

/** CLOCK_MONOTONIC in µs, the clock V8 stamps its CPU profile samples with. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Samples the summed RSS of `processes` into `into` now and each second until the returned
 * function is called.
 */
function sampleRss(processes, into) {
  const sample = () => into.push(Math.round(processes.reduce((s, p) => s + rssMb(p.pid), 0) * 10) / 10);
  sample();
  const timer = setInterval(sample, 1000);
  return () => clearInterval(timer);
}

/**
 * `target`: { url, headers, tokenFile?, firstToken?, expect, processes: [{ name, pid, own }],
 * adminUrl?, jwksHits?, prefill? }. `load`: { tool, cpus, seconds, warmupSeconds, connections,
 * dir }. Checks the target, prefills and warms it up; resolves the state its rounds add to.
 */
export async function prepare(target, load) {
  const first = target.firstToken === undefined ? {} : { authorization: `Bearer ${target.firstToken}` };
  await sanity(target.url, { ...target.headers, ...first }, target.expect);
  if (target.prefill && target.tokenFile !== undefined) await prefill(target.url, target.headers, target.tokenFile, target.expect);
  const spec = { tool: load.tool, cpus: load.cpus, url: target.url, connections: load.connections, headers: target.headers, tokenFile: target.tokenFile, dir: load.dir };
  // The timed rounds' tokens continue after the warm-up's, and each round after the one before,
  // so a rotation never replays a token the warm-up or a round has just cached.
  const warm = load.warmupSeconds > 0 ? await runLoad({ ...spec, seconds: load.warmupSeconds }) : undefined;
  return {
    target,
    spec,
    seconds: load.seconds,
    next: warm === undefined ? 0 : warm.requests + load.connections,
    rounds: [],
    rssSamplesMb: [],
    timedWindowsUs: [],
    jwksFetches: target.jwksHits === undefined ? undefined : 0,
    // Nothing but this scenario's own load reaches its sidecar, so the counters read now are
    // those before its first timed round.
    cacheBefore: await cacheCounters(target.adminUrl),
  };
}

/** Unmeasured load before each timed round, in seconds (wrk takes whole seconds). */
const ROUND_WARMUP_SECONDS = 1;

/**
 * One timed round of a prepared scenario, after a second of unmeasured load. The JWKS server is
 * shared by every sidecar, so its fetches are counted around the timed part only.
 */
export async function timedRound(m) {
  const processes = m.target.processes;
  // One unmeasured second first: a server idle since its previous round (a minute of other
  // scenarios) starts with cold caches and a shrunk heap, which showed as high first rounds.
  const warm = await runLoad({ ...m.spec, seconds: ROUND_WARMUP_SECONDS, offset: m.next });
  m.next += warm.requests + m.spec.connections;
  const jwksBefore = m.target.jwksHits?.();
  const stopSampling = sampleRss(processes.filter((p) => p.own), m.rssSamplesMb);
  const from = monotonicUs();
  const ticksBefore = processes.map((p) => treeTicks(p.pid));
  let result;
  try {
    result = await runLoad({ ...m.spec, seconds: m.seconds, offset: m.next });
  } finally {
    stopSampling();
  }
  const ticksAfter = processes.map((p) => treeTicks(p.pid));
  m.timedWindowsUs.push({ from, to: monotonicUs() });
  if (jwksBefore !== undefined) m.jwksFetches += m.target.jwksHits() - jwksBefore;
  m.next += result.requests + m.spec.connections;
  const perProcess = processes.map((p, i) => {
    const us = ticksToMicros(/** @type {number} */ (ticksAfter[i]) - /** @type {number} */ (ticksBefore[i]));
    return { name: p.name, own: p.own, cpuUsPerReq: us / Math.max(1, result.requests), cpuBusy: us / 1e6 / result.seconds };
  });
  m.rounds.push({
    ...result,
    perProcess,
    ownCpuUsPerReq: perProcess.filter((p) => p.own).reduce((s, p) => s + p.cpuUsPerReq, 0),
    totalCpuUsPerReq: perProcess.reduce((s, p) => s + p.cpuUsPerReq, 0),
  });
}

/** The scenario's figures after its last round (call it right after that round). */
export async function summarise(m) {
  const { target, rounds } = m;
  const cacheAfter = await cacheCounters(target.adminUrl);
  const memory = await heapFigures(target.adminUrl);
  // Each figure is the median of the rounds; the per-round figures stay in the JSON.
  const med = (pick) => median(rounds.map(pick));
  const requests = rounds.reduce((s, r) => s + r.requests, 0);
  const non2xx = rounds.reduce((s, r) => s + r.non2xx, 0);
  const socketErrors = rounds.reduce((s, r) => s + r.socketErrors, 0);
  const expectedOk = target.expect < 300;
  const unexpected = expectedOk ? non2xx : requests - non2xx;
  return {
    requests,
    seconds: rounds.reduce((s, r) => s + r.seconds, 0),
    rps: med((r) => r.rps),
    p50Ms: med((r) => r.p50Ms),
    p99Ms: med((r) => r.p99Ms),
    non2xx,
    socketErrors,
    // A wrong status invalidates a row; a few socket errors (connections cut as the run stops)
    // only when they pass 0.1 % of the requests.
    unexpected: unexpected + (socketErrors > requests / 1000 ? socketErrors : 0),
    ownCpuUsPerReq: med((r) => r.ownCpuUsPerReq),
    totalCpuUsPerReq: med((r) => r.totalCpuUsPerReq),
    perProcess: target.processes.map((p, i) => ({
      name: p.name,
      own: p.own,
      cpuUsPerReq: med((r) => /** @type {{ cpuUsPerReq: number }} */ (r.perProcess[i]).cpuUsPerReq),
      cpuBusy: med((r) => /** @type {{ cpuBusy: number }} */ (r.perProcess[i]).cpuBusy),
    })),
    rounds: rounds.map((r) => ({ requests: r.requests, rps: r.rps, ownCpuUsPerReq: r.ownCpuUsPerReq, totalCpuUsPerReq: r.totalCpuUsPerReq })),
    peakRssMb: target.processes.filter((p) => p.own).reduce((s, p) => s + peakRssMb(p.pid), 0),
    rssSamplesMb: m.rssSamplesMb,
    timedWindowsUs: m.timedWindowsUs,
    memory,
    cache: m.cacheBefore && cacheAfter ? { hits: cacheAfter.hits - m.cacheBefore.hits, misses: cacheAfter.misses - m.cacheBefore.misses } : undefined,
    jwksFetches: m.jwksFetches,
  };
}
