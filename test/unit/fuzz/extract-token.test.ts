/**
 * Property tests of the token extractor (docs/decisions.md, RFC 6750 §2.1): for any headers and
 * query it never throws; a header token is only ever the b64token of an exact
 * `Bearer <b64token>` value; a present Authorization header is never bypassed by a cookie or a
 * query token; query tokens appear only when switched on.
 */
import t from 'tap';
import fc from 'fast-check';
import type { RuntimeConfig } from '../../../src/config/types.js';
import { extractToken } from '../../../src/pipeline/extract-token.js';

const SEED = 20_240_601;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const tokensArb: fc.Arbitrary<RuntimeConfig['tokens']> = fc.record({
  header: fc.boolean(),
  cookie: fc.constantFrom<string | false>('access_token', 'session', false),
  query: fc.boolean(),
});
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ maxLength: 60 }));
const authorization = fc.oneof(
  text,
  text.map((s) => `Bearer ${s}`),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Bearer:', 'Basic', 'Token'), fc.constantFrom(' ', '  ', '\t', ''), text).map(([a, b, c]) => `${a}${b}${c}`),
  fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,40}={0,2}$/).map((s) => `Bearer ${s}`),
);
const headersArb = fc.record({ authorization: fc.option(authorization, { nil: undefined }), cookie: fc.option(text.map((s) => `access_token=${s}; session=${s}`), { nil: undefined }) }, { requiredKeys: [] });
const queryArb = fc.oneof(fc.constant(''), text.map((s) => `?access_token=${encodeURIComponent(s)}`), text.map((s) => `?${s}`));

t.test('never throws, and a header token is exactly the b64token of "Bearer <b64token>"', async (t) => {
  fc.assert(
    fc.property(headersArb, queryArb, tokensArb, (headers, query, tokens) => {
      const got = extractToken(headers, query, tokens);
      if (got.kind === 'token' && got.source === 'header') {
        const match = /^Bearer +(.+)$/i.exec(headers.authorization ?? '');
        return match !== null && got.token === match[1] && B64TOKEN.test(got.token);
      }
      return true;
    }),
    { seed: SEED, numRuns: 2_000 },
  );
  t.pass('2,000 cases');
});

t.test('a value that is not "Bearer <b64token>" never yields a token and is bad_scheme', async (t) => {
  const notBearer = authorization.filter((a) => !/^Bearer +[A-Za-z0-9\-._~+/]+=*$/i.test(a));
  fc.assert(
    fc.property(notBearer, headersArb, queryArb, (auth, headers, query) => {
      const got = extractToken({ ...headers, authorization: auth }, query, { header: true, cookie: 'access_token', query: true });
      return got.kind === 'bad_scheme';
    }),
    { seed: SEED, numRuns: 2_000 },
  );
  t.pass('2,000 cases');
});

t.test('with header tokens off, the Authorization header is never read', async (t) => {
  fc.assert(
    fc.property(authorization, (auth) => {
      const got = extractToken({ authorization: auth }, '', { header: false, cookie: 'access_token', query: false });
      return got.kind === 'none';
    }),
    { seed: SEED, numRuns: 1_000 },
  );
  t.pass('1,000 cases');
});

t.test('query tokens only when switched on', async (t) => {
  fc.assert(
    fc.property(queryArb, (query) => {
      const got = extractToken({}, query, { header: true, cookie: false, query: false });
      return got.kind === 'none';
    }),
    { seed: SEED, numRuns: 1_000 },
  );
  t.pass('1,000 cases');
});
