import t from 'tap';
import fc from 'fast-check';
import { parseCompact } from '../../../src/verify/jws.js';
import { b64url } from '../../support/tokens.js';

const ALPHABET = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const header = b64url(JSON.stringify({ alg: 'RS256' }));
const payload = b64url(JSON.stringify({ sub: 'u' }));
/** The definition: a canonical segment is one its decoded bytes encode back to. */
const roundTrips = (segment: string): boolean => Buffer.from(segment, 'base64url').toString('base64url') === segment;

t.test('property: a segment is accepted exactly when it is canonical base64url', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 40 }), (segment) => {
      const parsed = parseCompact(`${header}.${payload}.${segment}`);
      t.equal(parsed.ok, roundTrips(segment), segment);
      if (parsed.ok) t.same(parsed.jws.signature, Buffer.from(segment, 'base64url'));
    }),
    { numRuns: 2000 },
  );
});

t.test('every last character after 2 and 3 characters of a group', async (t) => {
  for (const prefix of ['', 'A', 'AB', 'abcdA', 'abcdAB']) {
    for (const last of ALPHABET) {
      const segment = `${prefix}${last}`;
      t.equal(parseCompact(`${header}.${payload}.${segment}`).ok, roundTrips(segment), segment);
    }
  }
});

/** JSON text of `value` with `space()` between tokens; `twice` objects write their first member again, its name escaped. */
function writeJson(value: unknown, space: () => string, twice: ReadonlySet<object>): string {
  if (Array.isArray(value)) return `[${space()}${value.map((v) => writeJson(v, space, twice)).join(`${space()},${space()}`)}${space()}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}${space()}:${space()}${writeJson(v, space, twice)}`);
  const [first] = Object.entries(value);
  if (twice.has(value) && first !== undefined) {
    const escaped = `"${[...first[0]].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
    members.push(`${escaped}${space()}:${space()}${writeJson(first[1], space, twice)}`);
  }
  return `{${space()}${members.join(`${space()},${space()}`)}${space()}}`;
}

t.test('property: a payload is refused for a repeated member name exactly when one object writes a name twice', async (t) => {
  const header = b64url('{"alg":"RS256"}');
  const parse = (payload: string) => parseCompact(`${header}.${b64url(payload)}.${b64url('sig')}`);
  // Names and strings with quotes, backslashes, colons, escapes and non-ASCII; nested objects.
  const text = fc.string({ unit: fc.constantFrom('a', 'b', '"', '\\', ':', ' ', '{', '\u00e9', '\u2028', '\n'), maxLength: 6 });
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(text, tie('node'), { maxKeys: 4 })),
  })).node;
  const dict = fc.dictionary(text, value, { minKeys: 1, maxKeys: 4 });
  // Every whitespace JSON allows, in runs, between every two tokens.
  const spaces = fc.array(fc.constantFrom('', ' ', '\t', '\n', '\r', ' \r\n\t'), { minLength: 1, maxLength: 64 });
  fc.assert(
    fc.property(dict, dict, spaces, fc.constantFrom('none', 'top', 'nested'), (top, inner, runs, where) => {
      const payload = { ...top, nested: [{ inner }] };
      let at = 0;
      const space = (): string => runs[at++ % runs.length]!;
      const twice = new Set<object>(where === 'top' ? [payload] : where === 'nested' ? [inner] : []);
      const result = parse(writeJson(payload, space, twice));
      return where === 'none' ? result.ok : !result.ok && result.detail === 'payload repeats a member name';
    }),
    { seed: 20_261_130, numRuns: 600 },
  );
  t.pass('600 payloads');
});
