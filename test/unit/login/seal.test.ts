import t from 'tap';
import { createSealer } from '../../../src/login/seal.js';

const SECRET = 'a-cookie-secret-of-at-least-32-bytes!!';
const T0 = 1_700_000_000_000;

t.test('seal then open returns the payload with iat and exp', async (t) => {
  const sealer = createSealer(SECRET, () => T0);
  const sealed = await sealer.seal('flow', { state: 's', nonce: 'n' }, 600);
  t.equal(sealed.split('.').length, 5, 'a compact JWE');
  t.notOk(sealed.includes('s"'), 'the payload is not readable');
  const opened = await sealer.open('flow', sealed);
  t.same(opened, { state: 's', nonce: 'n', iat: T0 / 1000, exp: T0 / 1000 + 600 });
});

t.test('refused values open to undefined', async (t) => {
  let now = T0;
  const sealer = createSealer(SECRET, () => now);
  const sealed = await sealer.seal('flow', { state: 's' }, 600);
  const refresh = await sealer.seal('refresh', { rt: 'r' }, 600);
  const other = await createSealer('another-cookie-secret-of-32-bytes-or-more', () => T0).seal('flow', { state: 's' }, 600);
  const parts = sealed.split('.');
  const flip = (s: string): string => (s.startsWith('A') ? `B${s.slice(1)}` : `A${s.slice(1)}`);
  const rows: ReadonlyArray<readonly [string, string]> = [
    ['ciphertext tampered', [parts[0], parts[1], parts[2], flip(parts[3]!), parts[4]].join('.')],
    ['tag tampered', [parts[0], parts[1], parts[2], parts[3], flip(parts[4]!)].join('.')],
    ['header tampered', [flip(parts[0]!), ...parts.slice(1)].join('.')],
    ['sealed with another secret', other],
    ['sealed for the other purpose', refresh],
    ['empty', ''],
    ['garbage', 'not.a.jwe.at.all'],
    ['oversized', 'a'.repeat(9000)],
  ];
  for (const [description, value] of rows) t.equal(await sealer.open('flow', value), undefined, description);

  now = T0 + 599_000;
  t.ok(await sealer.open('flow', sealed), 'still open 1 s before expiry');
  now = T0 + 600_000;
  t.equal(await sealer.open('flow', sealed), undefined, 'refused at expiry');
  now = T0 + 3_600_000;
  t.equal(await sealer.open('flow', sealed), undefined, 'refused long after expiry');
});

t.test('the refresh purpose uses its own key', async (t) => {
  const sealer = createSealer(SECRET, () => T0);
  const refresh = await sealer.seal('refresh', { rt: 'r' }, 60);
  t.match(await sealer.open('refresh', refresh), { rt: 'r' });
  t.equal(await sealer.open('flow', refresh), undefined);
});
