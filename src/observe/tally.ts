/**
 * Counter increments on the request path as plain additions. prom-client's `inc(labels)`
 * validates and hashes the label object on every call (a child from `labels()` does the same),
 * about a microsecond each; a tally keeps one slot per label set, the request path adds to the
 * slot's number, and `flush` hands the sums to the counter. The counter's `collect` hook calls
 * `flush`, so every read of the registry (a scrape, the cluster primary asking a worker, a
 * test) sees every increment made before it, as with `inc`.
 */
import type { Counter } from 'prom-client';

/** Increments of one label set not yet handed to the counter. */
export interface Slot {
  n: number;
}

type Labels<L extends string> = Readonly<Partial<Record<L, string>>>;

export interface Tally<L extends string> {
  /** A new slot for a label set; the caller keeps it (one per label set) and adds to `n`. */
  slot(labels: Labels<L>): Slot;
  /** Forgets a slot whose series was removed; its pending increments go with it. */
  drop(slot: Slot): void;
  /** Hands every pending increment to the counter. */
  flush(counter: Counter<L>): void;
}

interface Entry<L extends string> extends Slot {
  readonly labels: Labels<L>;
}

export function createTally<L extends string>(): Tally<L> {
  const entries = new Set<Slot>();
  return {
    slot(labels) {
      const entry: Entry<L> = { n: 0, labels: { ...labels } };
      entries.add(entry);
      return entry;
    },
    drop(slot) {
      entries.delete(slot);
    },
    flush(counter) {
      for (const slot of entries) {
        if (slot.n === 0) continue;
        counter.inc((slot as Entry<L>).labels, slot.n);
        slot.n = 0;
      }
    },
  };
}

/**
 * The slot of a (a, b, c) label triple, found through nested maps (no key string per call).
 * As many slots as the counter has series: bounded by what `labels` can return.
 */
export function slotsByTriple<L extends string>(
  tally: Tally<L>,
  labels: (a: string, b: string, c: string) => Labels<L>,
): (a: string, b: string, c: string) => Slot {
  const index = new Map<string, Map<string, Map<string, Slot>>>();
  return (a, b, c) => {
    let byB = index.get(a);
    if (byB === undefined) index.set(a, (byB = new Map<string, Map<string, Slot>>()));
    let byC = byB.get(b);
    if (byC === undefined) byB.set(b, (byC = new Map<string, Slot>()));
    let slot = byC.get(c);
    if (slot === undefined) byC.set(c, (slot = tally.slot(labels(a, b, c))));
    return slot;
  };
}
