/**
 * Reading and editing the `Cookie` request header (RFC 6265 §5.4, leniently).
 *
 * Enforces:
 * - pairs are split on `;`, names and values trimmed, a value wrapped in double quotes is
 *   unwrapped; pairs without `=` or with an empty name are skipped;
 * - the first value of a name wins (RFC 6265 §5.4 orders the more specific cookie first), so a
 *   later duplicate cannot override it;
 * - values are never percent-decoded, so no input can throw.
 */

function pairName(pair: string): string | undefined {
  const eq = pair.indexOf('=');
  if (eq === -1) return undefined;
  const name = pair.slice(0, eq).trim();
  return name === '' ? undefined : name;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  for (const pair of header.split(';')) {
    const name = pairName(pair);
    if (name === undefined || cookies.has(name)) continue;
    let value = pair.slice(pair.indexOf('=') + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    cookies.set(name, value);
  }
  return cookies;
}
