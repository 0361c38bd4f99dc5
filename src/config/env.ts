/**
 * `${NAME}` and `${NAME:-default}` in string values, replaced from the environment in place on
 * the parsed YAML document so every node keeps its line and column. A plain scalar that was
 * exactly one expression is read again as a YAML scalar (`port: ${PORT:-8080}` is a number).
 * Substituted values never appear in a finding: they are often secrets.
 */
import { Scalar, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { Finding, Segment } from './locate.js';

const EXPRESSION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/** What `text` reads as when written as a whole plain scalar (`8080`, `true`, `~`), else `text`. */
function reread(text: string): unknown {
  const { contents, errors } = parseDocument(text);
  const whole = errors.length === 0 && isScalar(contents) && contents.type === Scalar.PLAIN && contents.source === text;
  return whole ? contents.value : text;
}

function substitute(node: Scalar, path: Segment[], env: NodeJS.ProcessEnv, out: Finding[]): void {
  const text = node.value;
  if (typeof text !== 'string' || !text.includes('${')) return;
  const missing = new Set<string>();
  const replaced = text.replace(EXPRESSION, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    missing.add(name);
    return '';
  });
  for (const name of missing) {
    out.push({ path, message: `environment variable ${name} is not set; set it or write \${${name}:-default}` });
  }
  node.value = node.type === Scalar.PLAIN && WHOLE.test(text) ? reread(replaced) : replaced;
}

function walk(node: unknown, path: Segment[], env: NodeJS.ProcessEnv, out: Finding[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      walk(pair.value, [...path, String(key)], env, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item, [...path, i], env, out));
  } else if (isScalar(node)) {
    substitute(node, path, env, out);
  }
}

/** Replaces every expression in the document's values; returns one finding per unset variable. */
export function substituteEnv(doc: Document, env: NodeJS.ProcessEnv): Finding[] {
  const out: Finding[] = [];
  walk(doc.contents, [], env, out);
  return out;
}
