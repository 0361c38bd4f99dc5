/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function (name, file,
 * line), summed over every node of the call tree that runs it, as a share of the sampled time,
 * and the share of each origin: portcullis (dist/), a dependency (node_modules/), Node's own
 * JavaScript (node:), and V8/native ((program), (garbage collector), native builtins).
 * `(idle)` is left out of the shares so they describe the busy time only.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** Where a profiled function comes from, by its script URL. */
function originOf(url) {
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/node_modules/')) return 'dependency';
  if (url.includes('/dist/')) return 'portcullis';
  return 'v8/native';
}

/** The `top` functions by self time: { name, where, origin, selfMs, share }, and each origin's share. */
export function summariseProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || us === 0) continue;
    busyUs += us;
    const where = url === '' ? '' : `${url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'} ${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, origin: originOf(url), selfMs: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  const origins = {};
  for (const e of byFunction.values()) origins[e.origin] = (origins[e.origin] ?? 0) + e.selfMs;
  const share = (ms) => (busyUs === 0 ? 0 : ms / (busyUs / 1000));
  return {
    busyMs: busyUs / 1000,
    origins: Object.fromEntries(Object.entries(origins).map(([k, ms]) => [k, share(ms)])),
    topPortcullis: [...byFunction.values()]
      .filter((e) => e.origin === 'portcullis')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, 15)
      .map((e) => ({ ...e, share: share(e.selfMs) })),
    top: [...byFunction.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((e) => ({ ...e, share: share(e.selfMs) })),
  };
}

const pct = (share) => `${(share * 100).toFixed(1).padStart(5)}%`;

export function formatProfile(summary) {
  const row = (e) => `${pct(e.share)}  ${e.selfMs.toFixed(0).padStart(6)} ms  ${e.origin.padEnd(10)}  ${e.name}  ${e.where}`;
  const origins = Object.entries(summary.origins)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${pct(v).trim()}`)
    .join(', ');
  return [
    `busy ${summary.busyMs.toFixed(0)} ms sampled; self time by origin: ${origins}`,
    'top self time:',
    ...summary.top.map(row),
    'top portcullis functions (self time):',
    ...summary.topPortcullis.map(row),
  ].join('\n');
}
