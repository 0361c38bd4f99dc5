/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function (name, file,
 * line), summed over every node of the call tree that runs it, as a share of the sampled time.
 * `(idle)` is left out of the shares so they describe the busy time only.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** The `top` functions by self time: { name, where, selfMs, share }. */
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
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, selfMs: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  return {
    busyMs: busyUs / 1000,
    top: [...byFunction.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((e) => ({ ...e, share: busyUs === 0 ? 0 : e.selfMs / (busyUs / 1000) })),
  };
}

export function formatProfile(summary) {
  const rows = summary.top.map((e) => `${(e.share * 100).toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(6)} ms  ${e.name}  ${e.where}`);
  return [`busy ${summary.busyMs.toFixed(0)} ms sampled; top self time:`, ...rows].join('\n');
}
