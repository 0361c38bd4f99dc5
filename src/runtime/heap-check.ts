/**
 * The start-up check of the V8 heap limit against the verified-token cache (docs/performance.md,
 * "Memory"): a full cache of the longest accepted tokens must fit under the limit with room for
 * the rest of the process, or a busy sidecar could run out of heap. It only warns: the bound is
 * a worst case (real tokens are far shorter), and the fix is the operator's: a larger
 * `--max-old-space-size` in NODE_OPTIONS, or a smaller `cache.verified_tokens`.
 */
import { getHeapStatistics } from 'node:v8';
import type { OpLog } from '../observe/log.js';
import { cacheBoundBytes } from '../verify/token-cache.js';

/** The heap besides the cache: modules, compiled config, metric series, young generation. */
const REST_OF_HEAP_BYTES = 48 * 2 ** 20;

const mb = (bytes: number): number => Math.ceil(bytes / 2 ** 20);

/** Logs one warning when `cacheEntries` verdicts of the longest tokens would not fit under `heapLimit`. */
export function checkHeap(cacheEntries: number, log: OpLog, heapLimit = getHeapStatistics().heap_size_limit): void {
  const needed = cacheBoundBytes(cacheEntries) + REST_OF_HEAP_BYTES;
  if (needed <= heapLimit) return;
  log.heapBelowCache({ cacheEntries, neededMb: mb(needed), heapLimitMb: Math.floor(heapLimit / 2 ** 20) });
}
