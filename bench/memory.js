/**
 * `npm run bench:memory` (issue 15): what holds the sidecar's memory after many distinct
 * tokens. A forward-auth sidecar (the bench config, the default 10,000-entry verified-token
 * cache, the audit log on as by default) gets one token, then 10,000 distinct valid tokens, then
 * 40,000 more; after each stage its RSS is read from /proc and its V8 heap figures from the admin
 * /metrics, and at the end it writes a V8 heap snapshot (SIGUSR2, after a full GC). A second
 * sidecar is snapshotted after one token and after 10,000 (a snapshot leaves native memory
 * behind, so the RSS path takes none before its end). Printed: memory per stage, the live heap's
 * growth by kind between stages, and the bytes per cached verdict (growth from one token to a
 * full cache, over the 10,000 entries). Snapshots are deleted unless BENCH_KEEP_HEAP=1.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { heapGrowth, summariseHeap } from './lib/heap.js';
import { heapFigures, prefill } from './lib/measure.js';
import { peakRssMb, pinningPlan, rssMb } from './lib/proc.js';
import { sidecarYaml } from './lib/scenarios.js';
import { startSidecar } from './lib/servers.js';
import { createKey, mintTokenSets, startJwks, writeTokenFile } from './lib/tokens.js';

const CACHE = 10_000;
const TOTAL = 50_000;
const log = (line) => process.stderr.write(`[memory] ${line}\n`);
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

/** Asks `pid` for a heap snapshot in `dir` and waits for the file to be complete. */
async function snapshot(pid, dir, index) {
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 1200; i += 1) {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.heapsnapshot'))
      .sort();
    if (files.length > index) {
      // The file is written in chunks; a complete one parses.
      try {
        return summariseHeap(join(dir, /** @type {string} */ (files[index])));
      } catch {
        // still being written
      }
    }
    await sleep(250);
  }
  throw new Error('no heap snapshot within 5 minutes');
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-memory-'));
  const snapDir = join(dir, 'heap');
  mkdirSync(snapDir);
  const key = createKey();
  const jwks = await startJwks(key);
  log(`minting ${TOTAL} tokens`);
  const { valid } = await mintTokenSets(key, jwks.url, Math.floor(Date.now() / 1000), { valid: TOTAL, expired: 0, forged: 0, unknownKid: 0 });
  const ctx = { jwks };
  const headers = { 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com', 'x-forwarded-uri': '/app' };
  const start = (name) =>
    startSidecar({
      cpus: pinningPlan().servers,
      yaml: sidecarYaml(ctx, { cache: CACHE }),
      dir,
      name,
      nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`],
    });
  /** Sends `tokens` once each; `snap`: then a heap snapshot (the `index`-th file of the run). */
  async function stage(sidecar, name, tokens, snapIndex) {
    log(`${sidecar.name}: ${name}`);
    await prefill(`${sidecar.url}/_auth/verify`, headers, writeTokenFile(join(dir, 'stage.tokens'), tokens), 200);
    // Memory is read before any snapshot: writing one takes native memory of its own, which
    // the process keeps (so the RSS path below never takes one until its end).
    const figures = await heapFigures(sidecar.adminUrl);
    const result = { name, rss: rssMb(sidecar.pid), hwm: peakRssMb(sidecar.pid), figures, heap: undefined };
    if (snapIndex !== undefined) result.heap = await snapshot(sidecar.pid, snapDir, snapIndex);
    return result;
  }
  const results = [];
  try {
    // The RSS path: one sidecar through 1, 10,000 and 50,000 distinct tokens, snapshot at the end.
    const rssPath = await start('portcullis-rss');
    try {
      results.push(await stage(rssPath, 'one token', valid.slice(0, 1)));
      results.push(await stage(rssPath, `${CACHE} distinct tokens (cache full)`, valid.slice(1, CACHE)));
      results.push(await stage(rssPath, `${TOTAL} distinct tokens`, valid.slice(CACHE), 0));
    } finally {
      await rssPath.stop();
    }
    // The heap path: a second sidecar snapshotted after one token and after a full cache.
    const heapPath = await start('portcullis-heap');
    try {
      /** @type {typeof results[0]} */ (results[0]).heap = (await stage(heapPath, 'one token', valid.slice(0, 1), 1)).heap;
      /** @type {typeof results[0]} */ (results[1]).heap = (await stage(heapPath, `${CACHE} distinct tokens (cache full)`, valid.slice(1, CACHE), 2)).heap;
    } finally {
      await heapPath.stop();
    }
  } finally {
    await jwks.close();
    if (process.env.BENCH_KEEP_HEAP === '1') log(`heap snapshots kept in ${snapDir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  const out = ['stage | RSS MB | peak RSS MB | V8 heap committed MB | of it new space MB | heap used MB (before GC) | external MB | live heap MB (after full GC) | heap nodes'];
  const [one, full, all] = /** @type {{ name: string, rss: number, hwm: number, figures: any, heap: ReturnType<typeof summariseHeap> }[]} */ (results);
  if (one === undefined || full === undefined || all === undefined) throw new Error('a stage is missing');
  for (const r of [one, full, all]) {
    const f = r.figures;
    out.push(`${r.name} | ${r.rss.toFixed(1)} | ${r.hwm.toFixed(1)} | ${f?.heapTotalMb} | ${f?.newSpaceMb} | ${f?.heapUsedMb} | ${f?.externalMb} | ${mb(r.heap.totalBytes)} | ${r.heap.nodes}`);
  }
  const perVerdict = (full.heap.totalBytes - one.heap.totalBytes) / (CACHE - 1);
  out.push('', `bytes per cached verdict (live heap growth from one token to a full cache / ${CACHE - 1}): ${perVerdict.toFixed(0)}`);
  out.push(`live heap growth from ${CACHE} to ${TOTAL} distinct tokens: ${mb(all.heap.totalBytes - full.heap.totalBytes)} MB`);
  for (const [from, to] of [
    [one, full],
    [full, all],
  ]) {
    out.push('', `growth by kind, ${from.name} -> ${to.name} (count, bytes, bytes per distinct token):`);
    const tokens = from === one ? CACHE - 1 : TOTAL - CACHE;
    for (const g of heapGrowth(from.heap, to.heap)) out.push(`  ${String(g.count).padStart(8)}  ${String(g.bytes).padStart(11)}  ${(g.bytes / tokens).toFixed(1).padStart(7)}  ${g.key}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
