/**
 * Turns findings (a path into the document plus a message) into Problems with the line and
 * column of the YAML node they concern: the value node, the key node for unknown keys, or the
 * nearest enclosing node that exists in the file when the path was filled in by a default.
 */
import { isMap, isScalar } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import type { Problem } from './types.js';

export type Segment = string | number;

/** One problem before it is placed in the file. */
export interface Finding {
  readonly path: readonly Segment[];
  readonly message: string;
  /** Point at the mapping key rather than its value (unknown or misplaced keys). */
  readonly atKey?: boolean;
}

/** `routes[2].require.rolez` */
export function formatPath(path: readonly Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** True when `path` equals `prefix` or lies below it. */
export function isWithin(path: readonly Segment[], prefix: readonly Segment[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => s === path[i]);
}

function offsetOf(doc: Document, path: readonly Segment[], atKey: boolean): number {
  for (let depth = path.length; depth > 0; depth--) {
    const here = path.slice(0, depth);
    if (atKey && depth === path.length) {
      const parent = doc.getIn(here.slice(0, -1), true);
      const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === here.at(-1)) : undefined;
      const key = pair?.key as Node | undefined;
      if (key?.range) return key.range[0];
    }
    const node = doc.getIn(here, true) as Node | undefined;
    if (node?.range) return node.range[0];
  }
  return doc.contents?.range?.[0] ?? 0;
}

export function toProblem(doc: Document, lines: LineCounter, file: string, f: Finding): Problem {
  const { line, col } = lines.linePos(offsetOf(doc, f.path, f.atKey === true));
  return { file, line, col, path: formatPath(f.path), message: f.message };
}

/** Problems in file order; findings on the same spot keep the order they were found in. */
export function byPosition(a: Problem, b: Problem): number {
  return a.line - b.line || a.col - b.col;
}
