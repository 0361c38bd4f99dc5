import t from 'tap';
import { addressMatcher, clientAddress, plainIp } from '../../../src/http/client-address.js';

const none = { trustForwardedHeaders: false, trustedProxies: [] as string[] };
const proxies = { trustForwardedHeaders: false, trustedProxies: ['10.0.0.0/8', 'fd00::/8', '192.0.2.7'] };
const oneHop = { trustForwardedHeaders: true, trustedProxies: [] as string[] };

t.test('plainIp', async (t) => {
  t.equal(plainIp('::ffff:10.1.2.3'), '10.1.2.3', 'IPv4-mapped prefix dropped');
  t.equal(plainIp(' 203.0.113.9 '), '203.0.113.9');
  t.equal(plainIp('203.0.113.9:5555'), '203.0.113.9', 'IPv4 with port');
  t.equal(plainIp('[2001:db8::1]:443'), '2001:db8::1', 'bracketed IPv6 with port');
  t.equal(plainIp('2001:db8::1'), '2001:db8::1');
  t.equal(plainIp('unknown'), '', 'not an address');
  t.equal(plainIp('_hidden'), '', 'obfuscated node name');
});

t.test('without a trusted peer the client is the TCP peer', async (t) => {
  t.same(clientAddress('::ffff:203.0.113.5', '1.2.3.4', none), { clientIp: '203.0.113.5', peerIp: '203.0.113.5', trustedPeer: false });
  t.same(clientAddress('203.0.113.5', '10.0.0.1', proxies), { clientIp: '203.0.113.5', peerIp: '203.0.113.5', trustedPeer: false }, 'an untrusted peer naming a proxy changes nothing');
});

t.test('trusted proxies: walk X-Forwarded-For from the right, skipping trusted hops', async (t) => {
  const rows: ReadonlyArray<readonly [string, string, string | string[] | undefined, string]> = [
    ['one proxy appended the client', '10.0.0.2', '198.51.100.4', '198.51.100.4'],
    ['client-written entries on the left are ignored', '10.0.0.2', '6.6.6.6, 198.51.100.4', '198.51.100.4'],
    ['two trusted hops are skipped', '10.0.0.2', '6.6.6.6, 198.51.100.4, 10.9.9.9', '198.51.100.4'],
    ['single trusted address and IPv6 hops', 'fd00::1', '2001:db8::77, 192.0.2.7', '2001:db8::77'],
    ['several header lines are one list', '10.0.0.2', ['6.6.6.6', '198.51.100.4, 10.1.1.1'], '198.51.100.4'],
    ['every entry trusted: the left-most', '10.0.0.2', '10.3.3.3, 10.4.4.4', '10.3.3.3'],
    ['no header: the peer', '10.0.0.2', undefined, '10.0.0.2'],
    ['a non-address stops the walk at the hop that wrote it', '10.0.0.2', '198.51.100.4, unknown, 10.5.5.5', '10.5.5.5'],
    ['ports are dropped', '10.0.0.2', '198.51.100.4:6000', '198.51.100.4'],
  ];
  for (const [desc, peer, xff, client] of rows) {
    const found = clientAddress(peer, xff, proxies);
    t.equal(found.clientIp, client, desc);
    t.equal(found.trustedPeer, true, `${desc}: trusted peer`);
  }
});

t.test('trust_forwarded_headers is one trusted hop: the right-most entry', async (t) => {
  t.equal(clientAddress('203.0.113.1', '6.6.6.6, 198.51.100.4', oneHop).clientIp, '198.51.100.4');
  t.equal(clientAddress('203.0.113.1', undefined, oneHop).clientIp, '203.0.113.1');
  t.equal(clientAddress('203.0.113.1', 'garbage', oneHop).clientIp, '203.0.113.1');
});

t.test('address matches are remembered without changing an answer, past the memo size', async (t) => {
  const check = addressMatcher(['10.0.0.0/8', '2001:db8::/32']);
  for (let round = 0; round < 2; round += 1) {
    for (let i = 0; i < 1500; i += 1) {
      const inside = `10.0.${i >> 8}.${i & 255}`;
      const outside = `11.0.${i >> 8}.${i & 255}`;
      if (!check(inside) || check(outside)) t.fail(`round ${round}: ${inside} / ${outside}`);
    }
  }
  t.ok(check('2001:db8::1'), 'IPv6 inside');
  t.notOk(check('not an address'), 'text that is no address never matches');
  t.notOk(addressMatcher([])('10.0.0.1'), 'an empty list matches nothing');
  for (let i = 0; i < 2; i += 1) t.equal(clientAddress('::ffff:203.0.113.5', undefined, none).peerIp, '203.0.113.5', 'a peer address, asked twice');
});
