import t from 'tap';
import { createOpLog } from '../../../src/observe/log.js';
import { checkHeap } from '../../../src/runtime/heap-check.js';
import { cacheBoundBytes } from '../../../src/verify/token-cache.js';

const MB = 2 ** 20;

function lines(run: (log: ReturnType<typeof createOpLog>) => void): Record<string, unknown>[] {
  const out: string[] = [];
  run(createOpLog((line) => out.push(line)));
  return out.map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test('the cache bound: every verdict with a token of the longest accepted length', async (t) => {
  t.equal(cacheBoundBytes(0), 0);
  t.equal(cacheBoundBytes(10_000), 10_000 * (8192 + 1280));
});

t.test('warns only when a full cache of the longest tokens and the rest of the heap exceed the limit', async (t) => {
  const needed = cacheBoundBytes(10_000) + 48 * MB;
  t.same(lines((log) => checkHeap(10_000, log, needed)), [], 'exactly at the limit: quiet');
  t.same(lines((log) => checkHeap(0, log, 64 * MB)), [], 'no cache: quiet under a 64 MB heap');
  const [warning, ...rest] = lines((log) => checkHeap(10_000, log, needed - 1));
  t.same(rest, [], 'one line');
  t.match(warning, { level: 'warn', msg: 'heap limit below the cache bound', cache_entries: 10_000, needed_mb: Math.ceil(needed / MB), heap_limit_mb: Math.floor((needed - 1) / MB) });
});
