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
