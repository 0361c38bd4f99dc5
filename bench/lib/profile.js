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

function frameKey({ functionName, url, lineNumber }) {
  const where = url === '' ? '' : `${url.startsWith('file://') ? relative(process.cwd(), new URL(url).pathname) : url}:${lineNumber + 1}`;
  const name = functionName || '(anonymous)';
  return { key: `${name} ${where}`, name, where };
}

/**
 * The `top` functions by self time: { name, where, origin, selfMs, share }, and each origin's
 * share. `windows` ([{ from, to }], CLOCK_MONOTONIC µs as V8 stamps its samples: one per timed
 * round) keeps only the samples inside one of them, leaving start-up (module loading, config
 * compiling), the warm-up and the idle time between rounds out.
 * @param {string} file
 * @param {readonly { from: number, to: number }[]} [windows]
 */
export function summariseProfile(file, windows = undefined, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const selfUs = new Map();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows !== undefined && !windows.some((w) => at >= w.from && at <= w.to)) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const byFunction = new Map();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)' || us === 0) continue;
    busyUs += us;
    const { key, name, where } = frameKey(node.callFrame);
    const entry = byFunction.get(key) ?? { name, where, origin: originOf(url), selfMs: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  // Each sample charged to the nearest portcullis frame on its stack (itself or the closest
  // caller): what a portcullis function costs with the Node and library work it calls directly.
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const charged = new Map();
  let unchargedUs = 0;
  for (const [id, us] of selfUs) {
    let node = byId.get(id);
    if (node?.callFrame.functionName === '(idle)') continue;
    while (node !== undefined && originOf(node.callFrame.url) !== 'portcullis') node = parent.get(node.id);
    if (node === undefined) {
      unchargedUs += us;
      continue;
    }
    const key = frameKey(node.callFrame);
    const entry = charged.get(key.key) ?? { name: key.name, where: key.where, origin: 'portcullis', selfMs: 0 };
    entry.selfMs += us / 1000;
    charged.set(key.key, entry);
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
    outsidePortcullis: share(unchargedUs / 1000),
    chargedPortcullis: [...charged.values()]
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
    `top portcullis functions with the Node and library work they call directly (each sample charged to the nearest portcullis frame; ${pct(summary.outsidePortcullis).trim()} has none on its stack):`,
    ...summary.chargedPortcullis.map(row),
  ].join('\n');
}
