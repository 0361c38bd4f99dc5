/**
 * One timed measurement: a sanity request (the scenario must answer what it claims, or its
 * figures mean nothing), a warm-up, then the timed rounds with every server's CPU ticks read from
 * /proc before and after each, the subject's RSS sampled each second, and the sidecar's token-cache
 * counters and the JWKS fetch count read around the timed part only.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { peakRssMb, rssMb, ticksToMicros, treeTicks } from './proc.js';
import { runLoad } from './load.js';

const COUNTERS = ['portcullis_verified_token_cache_hits_total', 'portcullis_verified_token_cache_misses_total'];

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? /** @type {number} */ (sorted[mid]) : (/** @type {number} */ (sorted[mid - 1]) + /** @type {number} */ (sorted[mid])) / 2;
}

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

/**
 * `target`: { url, headers, tokenFile?, firstToken?, expect, processes: [{ name, pid, own }],
 * adminUrl?, jwksHits?, prefill? }. `load`: { tool, cpus, seconds, rounds, warmupSeconds, connections,
 * dir }: after the warm-up, `rounds` timed runs of `seconds` each, every figure the median of the
 * rounds (CPU per request is read around each round).
 */
export async function measure(target, load) {
  const first = target.firstToken === undefined ? {} : { authorization: `Bearer ${target.firstToken}` };
  await sanity(target.url, { ...target.headers, ...first }, target.expect);
  if (target.prefill && target.tokenFile !== undefined) await prefill(target.url, target.headers, target.tokenFile, target.expect);
  const spec = { tool: load.tool, cpus: load.cpus, url: target.url, connections: load.connections, headers: target.headers, tokenFile: target.tokenFile, dir: load.dir };
  // The timed run's tokens continue after the warm-up's, so a rotation never replays a token
  // the warm-up has just cached.
  const warm = load.warmupSeconds > 0 ? await runLoad({ ...spec, seconds: load.warmupSeconds }) : undefined;
  const offset = warm === undefined ? 0 : warm.requests + load.connections;

  const own = target.processes.filter((p) => p.own);
  const countersBefore = await cacheCounters(target.adminUrl);
  const jwksBefore = target.jwksHits?.();
  const rssSamples = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssSamples.push(Math.round(own.reduce((s, p) => s + rssMb(p.pid), 0) * 10) / 10);
      await sleep(1000);
    }
  })();
  const rounds = [];
  let next = offset;
  // CLOCK_MONOTONIC in µs, the clock of V8 CPU profiles: a profile is read over this window only.
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
  const windowStart = monotonicUs();
  try {
    for (let r = 0; r < load.rounds; r += 1) {
      const ticksBefore = target.processes.map((p) => treeTicks(p.pid));
      const result = await runLoad({ ...spec, seconds: load.seconds, offset: next });
      const ticksAfter = target.processes.map((p) => treeTicks(p.pid));
      next += result.requests + load.connections;
      const perProcess = target.processes.map((p, i) => {
        const us = ticksToMicros(/** @type {number} */ (ticksAfter[i]) - /** @type {number} */ (ticksBefore[i]));
        return { name: p.name, own: p.own, cpuUsPerReq: us / Math.max(1, result.requests), cpuBusy: us / 1e6 / result.seconds };
      });
      rounds.push({
        ...result,
        perProcess,
        ownCpuUsPerReq: perProcess.filter((p) => p.own).reduce((s, p) => s + p.cpuUsPerReq, 0),
        totalCpuUsPerReq: perProcess.reduce((s, p) => s + p.cpuUsPerReq, 0),
      });
    }
  } finally {
    sampling = false;
    await sampler;
  }
  const timedWindowUs = { from: windowStart, to: monotonicUs() };
  const countersAfter = await cacheCounters(target.adminUrl);
  const memory = await heapFigures(target.adminUrl);
  const jwksAfter = target.jwksHits?.();

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
    peakRssMb: own.reduce((s, p) => s + peakRssMb(p.pid), 0),
    rssSamplesMb: rssSamples,
    timedWindowUs,
    memory,
    cache: countersBefore && countersAfter ? { hits: countersAfter.hits - countersBefore.hits, misses: countersAfter.misses - countersBefore.misses } : undefined,
    jwksFetches: jwksBefore === undefined || jwksAfter === undefined ? undefined : jwksAfter - jwksBefore,
  };
}
