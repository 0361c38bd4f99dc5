import t from 'tap';
import { parseCookies } from '../../../src/http/cookies.js';

const parseRows: ReadonlyArray<readonly [string, string | undefined, ReadonlyArray<readonly [string, string]>]> = [
  ['no header gives no cookies', undefined, []],
  ['empty header gives no cookies', '', []],
  ['single pair', 'a=1', [['a', '1']]],
  ['several pairs', 'a=1; b=2; c=3', [['a', '1'], ['b', '2'], ['c', '3']]],
  ['no space after semicolon', 'a=1;b=2', [['a', '1'], ['b', '2']]],
  ['whitespace around names and values trimmed', '  a =  1 ;\tb=2 ', [['a', '1'], ['b', '2']]],
  ['first value of a name wins', 'a=first; a=second', [['a', 'first']]],
  ['value keeps later equals signs', 'a=x=y==', [['a', 'x=y==']]],
  ['quoted value unwrapped', 'a="quoted"', [['a', 'quoted']]],
  ['lone quote kept', 'a="', [['a', '"']]],
  ['empty value kept as empty', 'a=; b=2', [['a', ''], ['b', '2']]],
  ['pair without equals skipped', 'flag; a=1', [['a', '1']]],
  ['empty name skipped', '=x; a=1', [['a', '1']]],
  ['malformed percent never throws nor decodes', 'a=%E0%A4%A; b=%zz', [['a', '%E0%A4%A'], ['b', '%zz']]],
  ['names are case-sensitive', 'A=1; a=2', [['A', '1'], ['a', '2']]],
  ['prototype names are plain keys', '__proto__=1; constructor=2', [['__proto__', '1'], ['constructor', '2']]],
  ['empty pieces ignored', ';;a=1;;', [['a', '1']]],
];

t.test('parseCookies', async (t) => {
  for (const [description, header, expected] of parseRows) {
    const parsed = parseCookies(header);
    t.same([...parsed.entries()], expected, description);
  }
});
