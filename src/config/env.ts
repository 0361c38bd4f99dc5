/**
 * `${NAME}` and `${NAME:-default}` in string values, replaced from the environment in place on
 * the parsed YAML document so every node keeps its line and column. A plain scalar that was
 * exactly one expression is read again as a YAML scalar (`port: ${PORT:-8080}` is a number).
 * Substituted values never appear in a finding: they are often secrets.
 *
 * With placeholders (`check --no-env`), an unset variable without a default takes a value of
 * the shape its key expects instead of being a problem: an https URL under `issuer`,
 * `jwks_uri`, `public_url` and `upstream`, `127.0.0.1:0` for a `listen` address, and a 32-byte
 * string everywhere else (long enough for `cookie_secret` and HS* secrets). A value no
 * placeholder fits (a number, a duration) is still reported, with what to write instead.
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

const URL_KEYS = new Set(['issuer', 'jwks_uri', 'public_url', 'upstream']);
/** 32 bytes: the shortest cookie_secret or HS* secret that is accepted. */
export const SECRET_PLACEHOLDER = 'placeholder-secret-for-check-ok!';

/** What an unset variable stands for under `key` in placeholder mode (`whole`: the entire value). */
function placeholder(key: Segment | undefined, whole: boolean): string {
  if (typeof key === 'string' && URL_KEYS.has(key)) return whole ? 'https://placeholder.invalid' : 'placeholder.invalid';
  return SECRET_PLACEHOLDER;
}

function substitute(node: Scalar, path: Segment[], env: NodeJS.ProcessEnv, placeholders: boolean, out: Finding[]): void {
  const text = node.value;
  if (typeof text !== 'string' || !text.includes('${')) return;
  const missing = new Set<string>();
  const key = path.at(-1);
  const whole = WHOLE.test(text);
  const replaced = text.replace(EXPRESSION, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    missing.add(name);
    return placeholders ? placeholder(key, whole) : '';
  });
  for (const name of missing) {
    out.push({
      path,
      message: placeholders
        ? `no placeholder fits the value of \${${name}} here; write \${${name}:-<a valid value>} to check without the environment`
        : `environment variable ${name} is not set; set it or write \${${name}:-default}`,
    });
  }
  // A listen address with an unset part (`0.0.0.0:${PORT}`) is checked as a loopback address.
  const value = placeholders && missing.size > 0 && key === 'listen' ? '127.0.0.1:0' : replaced;
  node.value = node.type === Scalar.PLAIN && whole ? reread(value) : value;
}

function walk(node: unknown, path: Segment[], env: NodeJS.ProcessEnv, placeholders: boolean, out: Finding[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      walk(pair.value, [...path, String(key)], env, placeholders, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item, [...path, i], env, placeholders, out));
  } else if (isScalar(node)) {
    substitute(node, path, env, placeholders, out);
  }
}

/**
 * Replaces every expression in the document's values; returns one finding per unset variable
 * (in placeholder mode, per placeholder: a problem only where the value then fails a check).
 */
export function substituteEnv(doc: Document, env: NodeJS.ProcessEnv, placeholders = false): Finding[] {
  const out: Finding[] = [];
  walk(doc.contents, [], env, placeholders, out);
  return out;
}
