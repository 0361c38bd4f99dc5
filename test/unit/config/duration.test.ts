// parseDuration: every accepted form gives its milliseconds, every malformed one undefined.
import t from 'tap';
import { parseDuration } from '../../../src/config/index.js';

const cases: [string, string | number, number | undefined][] = [
  ['milliseconds', '500ms', 500],
  ['seconds', '30s', 30_000],
  ['minutes', '10m', 600_000],
  ['hours', '24h', 86_400_000],
  ['days', '1d', 86_400_000],
  ['hours and minutes combined', '1h30m', 5_400_000],
  ['every unit combined in order', '1d2h3m4s5ms', 93_784_005],
  ['decimal parts', '1.5s', 1500],
  ['bare number string is seconds', '90', 90_000],
  ['bare number is seconds', 2.5, 2500],
  ['zero', 0, 0],
  ['surrounding whitespace is ignored', ' 5s ', 5000],
  ['negative number is refused', -1, undefined],
  ['negative string is refused', '-5s', undefined],
  ['infinite number is refused', Infinity, undefined],
  ['NaN is refused', NaN, undefined],
  ['empty string is refused', '', undefined],
  ['unknown unit is refused', '5sec', undefined],
  ['words are refused', '30 seconds', undefined],
  ['units out of order are refused', '10m5h', undefined],
  ['a repeated unit is refused', '1h1h', undefined],
  ['a unit without a number is refused', 'ms', undefined],
  ['upper-case units are refused', '5S', undefined],
];

for (const [description, input, expected] of cases) {
  t.equal(parseDuration(input), expected, description);
}
