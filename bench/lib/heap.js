/**
 * Reads a V8 `.heapsnapshot` (from `node --heapsnapshot-signal`): the live heap summed by kind
 * (objects and closures by constructor or function name, every other node by its V8 type), as
 * DevTools' summary view does with self sizes, plus a census of the strings by shape (64-hex
 * digests, 12-hex fingerprints, JWT-like, other). Comparing two summaries of one process says
 * what grew between them.
 */
import { readFileSync } from 'node:fs';

/** `{ totalBytes, nodes, groups: Map<key, { count, bytes }> }` of one snapshot file. */
export function summariseHeap(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = meta.node_types[typeAt];
  const groups = new Map();
  let totalBytes = 0;
  const add = (key, bytes) => {
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count += 1;
    g.bytes += bytes;
    groups.set(key, g);
  };
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const name = snap.strings[snap.nodes[i + nameAt]] ?? '';
    const bytes = snap.nodes[i + sizeAt];
    totalBytes += bytes;
    if (type === 'object' || type === 'closure') add(`${type} ${name || '(anonymous)'}`, bytes);
    else if (type === 'string' || type === 'concatenated string' || type === 'sliced string') add(`string ${stringShape(name)}`, bytes);
    else add(type, bytes);
  }
  return { totalBytes, nodes: snap.nodes.length / width, groups };
}

function stringShape(text) {
  if (/^[0-9a-f]{64}$/.test(text)) return '(64-hex digest)';
  if (/^[0-9a-f]{12}$/.test(text)) return '(12-hex fingerprint)';
  if (/^[\w-]+\.[\w-]+\.[\w-]+$/.test(text) && text.length > 100) return '(JWT-like)';
  if (text.length > 1000) return '(over 1 kB)';
  return '(other)';
}

/** The `top` groups by growth from `before` to `after`: { key, count, bytes } deltas. */
export function heapGrowth(before, after, top = 15) {
  const keys = new Set([...before.groups.keys(), ...after.groups.keys()]);
  return [...keys]
    .map((key) => {
      const a = before.groups.get(key) ?? { count: 0, bytes: 0 };
      const b = after.groups.get(key) ?? { count: 0, bytes: 0 };
      return { key, count: b.count - a.count, bytes: b.bytes - a.bytes };
    })
    .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
    .slice(0, top);
}
