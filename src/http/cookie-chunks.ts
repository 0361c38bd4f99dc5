/**
 * Cookies too long for one browser cookie (docs/login.md): a browser drops a cookie whose
 * `name=value` and attributes pass 4,096 bytes, without telling anyone. A value longer than
 * `CHUNK_BYTES` is written as `name`, `name_1`, `name_2`, … with the same attributes and joined
 * again when read.
 *
 * Enforces: every chunk value is at most `CHUNK_BYTES` long (cookie values are ASCII here: JWTs
 * and JWE compact values), so name, value and attributes stay under 4,000 bytes; at most
 * `MAX_CHUNKS` chunks are written or read (a longer value is refused, not truncated); reading
 * stops at the first missing index (the writer clears every chunk name beyond the new count, so
 * a shorter token is never joined with the tail of an older one).
 */

/** Value bytes per chunk: leaves room for a name, `Domain` and the other attributes below 4,000. */
export const CHUNK_BYTES = 3_500;
/** Bounds the work per request and the size of the Cookie header (about 28 KB of value). */
export const MAX_CHUNKS = 8;

export function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}_${index}`;
}

/** The chunk values of `value`, or undefined when it needs more than MAX_CHUNKS. */
export function splitValue(value: string): string[] | undefined {
  const chunks: string[] = [];
  for (let at = 0; at < value.length || chunks.length === 0; at += CHUNK_BYTES) chunks.push(value.slice(at, at + CHUNK_BYTES));
  return chunks.length > MAX_CHUNKS ? undefined : chunks;
}

/** The joined value of `name` and its chunks in a parsed Cookie header; undefined without `name`. */
export function joinChunks(cookies: ReadonlyMap<string, string>, name: string): string | undefined {
  const first = cookies.get(name);
  if (first === undefined) return undefined;
  let value = first;
  for (let i = 1; i < MAX_CHUNKS; i++) {
    const next = cookies.get(chunkName(name, i));
    if (next === undefined) break;
    value += next;
  }
  return value;
}
