// Holds bench/lib/stats.js: a target ratio of `npm run bench` is the median over rounds of the
// subject's round r over its reference's round r, so a drift of the machine that both see in a
// round cancels out, and one disturbed round does not move the verdict.
import t from 'tap';
import { median, pairedRatio } from '../../../bench/lib/stats.js';

void t.test('median of an odd and an even count', async (t) => {
  t.equal(median([5, 1, 3]), 3);
  t.equal(median([4, 1, 3, 2]), 2.5, 'the mean of the middle two');
  t.equal(median([7]), 7);
});

void t.test('a drift both rows see in a round cancels out', async (t) => {
  // The machine runs 1.0, 1.5, 2.0, 1.1 and 2.5 times slower in rounds 1..5.
  const reference = [10, 15, 20, 11, 25];
  const subject = reference.map((v) => v * 1.2);
  const paired = pairedRatio(subject, reference);
  t.same(
    paired.perRound.map((r) => r.toFixed(6)),
    ['1.200000', '1.200000', '1.200000', '1.200000', '1.200000'],
    'every round says 1.2',
  );
  t.equal(paired.ratio.toFixed(6), '1.200000');
});

void t.test('one round disturbed for the subject only does not move the ratio', async (t) => {
  const paired = pairedRatio([12, 12, 30, 12, 12], [10, 10, 10, 10, 10]);
  t.same(paired.perRound, [1.2, 1.2, 3, 1.2, 1.2], 'each round kept');
  t.equal(paired.ratio, 1.2);
});

void t.test('rounds are paired by their number, not sorted first', async (t) => {
  // The run of the issue: scenario 2 against its reference 1b, three rounds each.
  const paired = pairedRatio([102, 105, 72], [45, 54, 51]);
  t.same(
    paired.perRound.map((r) => r.toFixed(3)),
    ['2.267', '1.944', '1.412'],
  );
  t.equal(paired.ratio.toFixed(3), '1.944', 'the median of the per-round ratios, not 102/51');
});

void t.test('an even number of rounds: the mean of the middle two ratios', async (t) => {
  t.equal(pairedRatio([2, 3, 4, 9], [1, 1, 1, 1]).ratio, 3.5);
});

void t.test('lists of different lengths or no rounds are refused', async (t) => {
  t.throws(() => pairedRatio([1, 2, 3], [1, 2]), /same number/);
  t.throws(() => pairedRatio([], []), /at least one/);
});
