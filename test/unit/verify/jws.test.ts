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

t.test('property: a payload is refused for a repeated member name exactly when one object writes a name twice', async (t) => {
  const header = b64url('{"alg":"RS256"}');
  const parse = (payload: string) => parseCompact(`${header}.${b64url(payload)}.${b64url('sig')}`);
  // Names and strings with quotes, backslashes, colons, escapes and non-ASCII; nested objects.
  const text = fc.string({ unit: fc.constantFrom('a', 'b', '"', '\\', ':', ' ', '{', '\u00e9', '\u2028', '\n') , maxLength: 6 });
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(text, tie('node'), { maxKeys: 4 })),
  })).node;
  fc.assert(
    fc.property(fc.dictionary(text, value, { minKeys: 1, maxKeys: 5 }), fc.constantFrom(undefined, 1, '\t', ' \r\n'), (payload, indent) => {
      const written = JSON.stringify(payload, null, indent);
      const accepted = parse(written);
      const [name, member] = Object.entries(payload)[0]!;
      const repeated = parse(written.replace(/^\{/, `{${JSON.stringify(name)} : ${JSON.stringify(member ?? null)},`));
      return accepted.ok && !repeated.ok && repeated.detail === 'payload repeats a member name';
    }),
    { seed: 20_261_130, numRuns: 500 },
  );
  t.pass('500 payloads');
});
