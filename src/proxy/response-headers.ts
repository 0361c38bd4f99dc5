/**
 * The upstream's response header block as the client receives it, built in one pass over the
 * raw list undici hands the proxy (names and values as bytes): names lower-cased, values read
 * as latin1 (as undici's own parser reads them), a repeated field kept as a list, hop-by-hop
 * fields and the fields the upstream's `Connection` names dropped, and `x-request-id` left to
 * portcullis (set before the answer, whatever the upstream says).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { HOP_BY_HOP, connectionTokens, normalizeHeaderName } from './hop-by-hop.js';

export function responseHeaders(raw: readonly Buffer[]): OutgoingHttpHeaders {
  // No prototype: a field called `toString` or `constructor` is an ordinary entry.
  const out = Object.create(null) as Record<string, string | string[]>;
  let connection: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') connection = connection === undefined ? value : `${connection},${value}`;
    if (HOP_BY_HOP.has(name.includes('_') ? name.replaceAll('_', '-') : name) || name === 'x-request-id' || name === '__proto__') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (typeof prev === 'string') out[name] = [prev, value];
    else prev.push(value);
  }
  const named = connectionTokens(connection);
  if (named.length !== 0) for (const name of Object.keys(out)) if (named.includes(normalizeHeaderName(name))) delete out[name];
  return out;
}
