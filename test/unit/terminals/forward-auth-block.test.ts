// Holds the forward-auth answer block (terminals/forward-auth.ts): the headers a cache hit copies
// are the ones the identity headers give, in the old order, built once per identity.
import t from 'tap';
import { identityHeaders } from '../../../src/proxy/upstream-headers.js';
import type { Identity } from '../../../src/identity/types.js';
import { answerBlock } from '../../../src/terminals/forward-auth.js';

const identity: Identity = {
  user: 'u-1',
  email: 'ada@example.com',
  username: 'ada',
  groups: ['/a', '/b'],
  roles: ['admin', 'with,comma'],
  issuer: 'https://idp.example.com',
  claims: { sub: 'u-1' },
  token: 'eyJ.x.y',
  exp: 2_000_000_000,
};

void t.test('the block is the identity headers between the per-request fields', async (t) => {
  for (const forwardToken of [false, true]) {
    const want = {
      'x-request-id': '',
      'content-length': '0',
      ...identityHeaders(identity, { forwardToken, tokenHeader: 'x-auth-request-access-token' }),
      'cache-control': '',
    };
    const block = answerBlock(identity, forwardToken);
    t.strictSame(block, want, `forwardToken ${forwardToken}: same headers`);
    t.same(Object.keys(block), Object.keys(want), `forwardToken ${forwardToken}: same order`);
    t.equal(answerBlock(identity, forwardToken), block, `forwardToken ${forwardToken}: built once per identity`);
  }
  t.equal(answerBlock(identity, true)['x-auth-request-access-token'], 'eyJ.x.y', 'the token only where the route forwards it');
  t.equal(answerBlock(identity, false)['x-auth-request-access-token'], undefined);
  t.not(answerBlock({ ...identity }, false), answerBlock(identity, false), 'another identity object, its own block');
});
