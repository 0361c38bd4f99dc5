/**
 * A prom-client Histogram fed by plain additions. prom-client's `observe(labels, v)` validates
 * and hashes the label object on every call; a tallied histogram finds the series of a label
 * pair through nested maps and adds to its own bucket counts, sum and count. It stays a real
 * `Histogram` on the registry (name, help, type, aggregator, validation of the configuration),
 * and answers prom-client's `getForPromString()` (used for the exposition text, and by the
 * inherited `get()` for the JSON the cluster primary aggregates) from those tallies, in the
 * shape Histogram produces: per series the cumulative `le` buckets, `+Inf`, `_sum`, `_count`,
 * series in the order of their first observation. An observation equal to a bound counts in
 * that bucket; the sum adds observations in their order, as prom-client does.
 *
 * Only `record(a, b, value)` feeds the output: the base class's `observe`, `labels`, `zero` and
 * `remove` are not read. At most two label names (the second value is '' for one).
 */
import { Histogram } from 'prom-client';
import type { Aggregator, HistogramConfiguration } from 'prom-client';
import { format } from 'node:util';

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bound, not cumulative; above the last bound only `count` grows. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class TalliedHistogram<L extends string> extends Histogram<L> {
  // Assigned by `reset()`, which prom-client's constructor calls before subclass fields exist.
  private declare index: Map<string, Map<string, Series>>;
  private declare series: Series[];
  private readonly bounds: readonly number[];
  private readonly names: readonly L[];
  private readonly metric: { readonly name: string; readonly help: string; readonly aggregator: Aggregator };

  constructor(config: Omit<HistogramConfiguration<L>, 'enableExemplars' | 'collect'> & { labelNames: readonly L[]; buckets: number[] }) {
    super(config);
    if (config.labelNames.length < 1 || config.labelNames.length > 2) throw new Error('a tallied histogram has one or two label names');
    this.names = [...config.labelNames];
    this.bounds = [...config.buckets];
    this.metric = { name: config.name, help: config.help, aggregator: config.aggregator ?? 'sum' };
  }

  /** Counts `value` in the series of label values (a, b); `b` is '' with one label name. */
  record(a: string, b: string, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
    let byB = this.index.get(a);
    if (byB === undefined) this.index.set(a, (byB = new Map<string, Series>()));
    let s = byB.get(b);
    if (s === undefined) byB.set(b, (s = this.create(a, b)));
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        s.counts[i]! += 1;
        break;
      }
    }
    s.sum += value;
    s.count += 1;
  }

  override reset(): void {
    this.index = new Map();
    this.series = [];
  }

  /** Read by prom-client's Registry for the text, and by `Histogram.get()` for the JSON. */
  async getForPromString() {
    const { name, help, aggregator } = this.metric;
    const bucket = `${name}_bucket`;
    const values = [];
    for (const s of this.series) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ labels: { le: this.bounds[i] }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count`, exemplar: undefined },
      );
    }
    return Promise.resolve({ name, help, type: 'histogram', values, aggregator });
  }

  private create(a: string, b: string): Series {
    const labels: Record<string, string> = { [this.names[0]!]: a };
    if (this.names.length === 2) labels[this.names[1]!] = b;
    const s: Series = { labels, counts: this.bounds.map(() => 0), sum: 0, count: 0 };
    this.series.push(s);
    return s;
  }
}
