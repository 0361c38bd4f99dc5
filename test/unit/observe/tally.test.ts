// Holds observe/tally.ts and observe/token-series.ts: counts added to slots reach the counter
// exactly once per collection, a dropped slot's series stays gone, a triple keeps its slot, and
// two subjects under one fingerprint keep separate series.
import t from 'tap';
import { Counter, Registry } from 'prom-client';
import { createTally, slotsByTriple } from '../../../src/observe/tally.js';
import { createTokenSeries } from '../../../src/observe/token-series.js';

function counter(labelNames: string[], collect?: (c: Counter) => void) {
  return new Counter({
    name: 'x_total',
    help: 'x',
    labelNames,
    registers: [new Registry()],
    ...(collect === undefined ? {} : { collect(this: Counter) { collect(this); } }),
  });
}

const values = async (c: Counter) => (await c.get()).values.map((v) => ({ labels: v.labels, value: v.value }));

void t.test('a tally hands its sums to the counter on flush, once', async (t) => {
  const tally = createTally<'k'>();
  const c = counter(['k'], (self) => tally.flush(self));
  const a = tally.slot({ k: 'a' });
  const b = tally.slot({ k: 'b' });
  t.same(await values(c), [], 'a slot never incremented makes no series');
  a.n += 2;
  b.n += 1;
  t.same(await values(c), [{ labels: { k: 'a' }, value: 2 }, { labels: { k: 'b' }, value: 1 }], 'every slot counted');
  a.n += 1;
  t.same(await values(c), [{ labels: { k: 'a' }, value: 3 }, { labels: { k: 'b' }, value: 1 }], 'a second collection adds only what came since');
  tally.drop(b);
  b.n += 5;
  c.remove({ k: 'b' });
  t.same(await values(c), [{ labels: { k: 'a' }, value: 3 }], 'a dropped slot no longer reaches the counter');
});

void t.test('slotsByTriple keeps one slot per triple', async (t) => {
  const tally = createTally<'a' | 'b' | 'c'>();
  const slotOf = slotsByTriple(tally, (a, b, c) => ({ a, b, c: c === '' ? 'none' : c }));
  t.equal(slotOf('r', 'allowed', ''), slotOf('r', 'allowed', ''), 'the same triple, the same slot');
  t.not(slotOf('r', 'allowed', ''), slotOf('r', 'denied', ''), 'another middle value, another slot');
  t.not(slotOf('r', 'denied', 'x'), slotOf('s', 'denied', 'x'), 'another first value, another slot');
  const c = counter(['a', 'b', 'c'], (self) => tally.flush(self));
  slotOf('r', 'allowed', '').n += 1;
  t.same(await values(c), [{ labels: { a: 'r', b: 'allowed', c: 'none' }, value: 1 }], 'labels built once by the given function');
});

void t.test('token series: two subjects under one fingerprint are two pairs', async (t) => {
  const holder: { series?: ReturnType<typeof createTokenSeries> } = {};
  const c = counter(['token', 'subject', 'result'], () => holder.series?.collect());
  const series = createTokenSeries(c, { limit: 10, now: () => 0 });
  holder.series = series;
  series.count({ fingerprint: 'f', subject: 'a' }, 'valid');
  series.count({ fingerprint: 'f', subject: 'b' }, 'valid');
  series.count({ fingerprint: 'f', subject: 'b' }, 'valid');
  series.count({ fingerprint: 'f', subject: 'a' }, 'invalid');
  t.same(
    await values(c),
    [
      { labels: { token: 'f', subject: 'a', result: 'valid' }, value: 1 },
      { labels: { token: 'f', subject: 'b', result: 'valid' }, value: 2 },
      { labels: { token: 'f', subject: 'a', result: 'invalid' }, value: 1 },
    ],
    'each pair and result its own series',
  );
  series.setLimit(1);
  series.count({ fingerprint: 'f', subject: 'b' }, 'valid');
  series.count({ fingerprint: 'f', subject: 'a' }, 'valid');
  t.same(
    (await values(c)).filter((v) => v.labels.subject !== 'a'),
    [{ labels: { token: 'other', subject: 'other', result: 'valid' }, value: 1 }],
    'the pair removed by a lower limit folds into other, its series gone',
  );
});
