import t from 'tap';
import { requestIdFrom } from '../../../src/http/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const kept: ReadonlyArray<readonly [string, string]> = [
  ['simple id kept', 'abc123'],
  ['all allowed punctuation kept', 'a.b_c:d-e'],
  ['single character kept', 'x'],
  ['128 characters kept', 'a'.repeat(128)],
  ['upstream-style UUID kept', '3f2504e0-4f89-41d3-9a0c-0305e82c3301'],
];

const replaced: ReadonlyArray<readonly [string, string | string[] | undefined]> = [
  ['missing header replaced', undefined],
  ['empty value replaced', ''],
  ['129 characters replaced', 'a'.repeat(129)],
  ['space replaced', 'a b'],
  ['CRLF injection replaced', 'a\r\nX-Evil: 1'],
  ['quote replaced', 'a"b'],
  ['slash replaced', 'a/b'],
  ['non-ASCII replaced', 'caf\u00e9'],
  ['repeated header replaced', ['a', 'b']],
];

t.test('sane ids are kept', async (t) => {
  for (const [description, value] of kept) t.equal(requestIdFrom(value), value, description);
});

t.test('other values get a fresh UUID', async (t) => {
  for (const [description, value] of replaced) t.match(requestIdFrom(value), UUID, description);
  t.not(requestIdFrom(undefined), requestIdFrom(undefined), 'each generated id is new');
});
