/**
 * One timed measurement: a sanity request (the scenario must answer what it claims, or its
 * figures mean nothing), a warm-up, then the timed load with every server's CPU ticks read from
 * /proc before and after, the subject's RSS sampled each second, and the sidecar's token-cache
 * counters and the JWKS fetch count read around the timed part only.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { peakRssMb, rssMb, ticksToMicros, treeTicks } from './proc.js';
import { runLoad } from './load.js';

const COUNTERS = ['portcullis_verified_token_cache_hits_total', 'portcullis_verified_token_cache_misses_total'];

/** Sums of the cache hit/miss counters from the admin /metrics, or undefined without one. */
async function cacheCounters(adminUrl) {
  if (adminUrl === undefined) return undefined;
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const sum = (name) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const [hits, misses] = COUNTERS.map(sum);
  return { hits: /** @type {number} */ (hits), misses: /** @type {number} */ (misses) };
}

/** Asserts one request answers `expect`; throws with the status and a bit of the body. */
async function sanity(url, headers, expect) {
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== expect) throw new Error(`sanity request to ${url} answered ${res.status}, expected ${expect}: ${body.slice(0, 200)}`);
}

/** Sends every token of `file` once (16 at a time), so the timed run starts on a full cache. */
async function prefill(url, headers, file, expect) {
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
 * adminUrl?, jwksHits?, prefill? }. `load`: { tool, cpus, seconds, warmupSeconds, connections, dir }.
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
  const ticksBefore = target.processes.map((p) => treeTicks(p.pid));
  const rssSamples = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssSamples.push(Math.round(own.reduce((s, p) => s + rssMb(p.pid), 0) * 10) / 10);
      await sleep(1000);
    }
  })();
  const result = await runLoad({ ...spec, seconds: load.seconds, offset });
  const ticksAfter = target.processes.map((p) => treeTicks(p.pid));
  sampling = false;
  await sampler;
  const countersAfter = await cacheCounters(target.adminUrl);
  const jwksAfter = target.jwksHits?.();

  const perProcess = target.processes.map((p, i) => ({
    name: p.name,
    own: p.own,
    cpuUsPerReq: ticksToMicros(/** @type {number} */ (ticksAfter[i]) - /** @type {number} */ (ticksBefore[i])) / Math.max(1, result.requests),
    cpuBusy: ticksToMicros(/** @type {number} */ (ticksAfter[i]) - /** @type {number} */ (ticksBefore[i])) / 1e6 / result.seconds,
  }));
  const expectedOk = target.expect < 300;
  const unexpected = expectedOk ? result.non2xx : result.requests - result.non2xx;
  return {
    ...result,
    // A wrong status invalidates a row; a few socket errors (connections cut as the run stops)
    // only when they pass 0.1 % of the requests.
    unexpected: unexpected + (result.socketErrors > result.requests / 1000 ? result.socketErrors : 0),
    ownCpuUsPerReq: perProcess.filter((p) => p.own).reduce((s, p) => s + p.cpuUsPerReq, 0),
    totalCpuUsPerReq: perProcess.reduce((s, p) => s + p.cpuUsPerReq, 0),
    perProcess,
    peakRssMb: own.reduce((s, p) => s + peakRssMb(p.pid), 0),
    rssSamplesMb: rssSamples,
    cache: countersBefore && countersAfter ? { hits: countersAfter.hits - countersBefore.hits, misses: countersAfter.misses - countersBefore.misses } : undefined,
    jwksFetches: jwksBefore === undefined || jwksAfter === undefined ? undefined : jwksAfter - jwksBefore,
  };
}
