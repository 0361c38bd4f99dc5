/**
 * A binary min-heap of (expSec, key): the next entry to expire is always on top. The per-token
 * metric series use it to find the tokens whose `exp` has passed without a scan per request.
 */
export interface ExpiryEntry {
  readonly expSec: number;
  readonly key: string;
}

export interface ExpiryHeap {
  push(entry: ExpiryEntry): void;
  peek(): ExpiryEntry | undefined;
  pop(): void;
}

export function createExpiryHeap(): ExpiryHeap {
  const heap: ExpiryEntry[] = [];
  const swap = (i: number, j: number): void => {
    [heap[i], heap[j]] = [heap[j]!, heap[i]!];
  };
  return {
    push(entry) {
      heap.push(entry);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (heap[parent]!.expSec <= heap[i]!.expSec) break;
        swap(i, parent);
        i = parent;
      }
    },
    peek: () => heap[0],
    pop() {
      const last = heap.pop();
      if (heap.length === 0 || last === undefined) return;
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && heap[l]!.expSec < heap[min]!.expSec) min = l;
        if (r < heap.length && heap[r]!.expSec < heap[min]!.expSec) min = r;
        if (min === i) break;
        swap(i, min);
        i = min;
      }
    },
  };
}
