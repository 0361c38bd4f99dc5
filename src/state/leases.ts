/**
 * State lifetime: each request takes a lease on the runtime state it started with and keeps
 * using that state to its end. A reload swaps in the next state at once; the replaced one is
 * retired: it closes its plug-ins and the key stores no live state shares only when its last
 * lease ends, or when `timeoutMs` has passed (a stuck request cannot keep it open forever).
 */
import type { KeyStore } from '../verify/index.js';
import type { RuntimeState } from './runtime-state.js';

export interface Lease {
  readonly state: RuntimeState;
  /** Ends the lease; a second call does nothing. */
  release(): void;
}

export interface StateHolder {
  /** The state new requests start with. */
  current(): RuntimeState;
  acquire(): Lease;
  /** Makes `next` current and retires the state it replaces (closed in the background). */
  replace(next: RuntimeState, timeoutMs: number): void;
  /** Retires the current state too and resolves when every state has closed. */
  close(timeoutMs: number): Promise<void>;
}

interface Entry {
  leases: number;
  retiring?: () => void;
}

/** `onCloseError`: a retired state failed to close (a plug-in's `close()` threw). */
export function createStateHolder(initial: RuntimeState, onCloseError: (err: unknown) => void = () => undefined): StateHolder {
  let current = initial;
  /** Every state not yet closed: the current one and the retiring ones. */
  const alive = new Map<RuntimeState, Entry>([[initial, { leases: 0 }]]);
  const closing = new Set<Promise<void>>();

  /** Closes `state`, keeping the key stores another live state still uses. */
  async function closeState(state: RuntimeState): Promise<void> {
    alive.delete(state);
    const keep = new Set<KeyStore>();
    for (const other of alive.keys()) for (const store of other.stores.values()) keep.add(store);
    await state.close(keep);
  }

  function retire(state: RuntimeState, timeoutMs: number): void {
    const entry = alive.get(state);
    if (entry === undefined || entry.retiring !== undefined) return;
    let fire: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (fire = resolve)).then(() => closeState(state)).catch(onCloseError);
    const timer = setTimeout(() => entry.retiring?.(), timeoutMs);
    timer.unref();
    const close = (): void => {
      clearTimeout(timer);
      entry.retiring = () => undefined;
      fire();
    };
    entry.retiring = close;
    closing.add(done);
    void done.then(() => closing.delete(done));
    if (entry.leases === 0) close();
  }

  return {
    current: () => current,
    acquire() {
      const state = current;
      const entry = alive.get(state) as Entry;
      entry.leases += 1;
      let released = false;
      return {
        state,
        release() {
          if (released) return;
          released = true;
          entry.leases -= 1;
          if (entry.leases === 0) entry.retiring?.();
        },
      };
    },
    replace(next, timeoutMs) {
      const previous = current;
      alive.set(next, { leases: 0 });
      current = next;
      retire(previous, timeoutMs);
    },
    async close(timeoutMs) {
      retire(current, timeoutMs);
      while (closing.size > 0) await Promise.all(closing);
    },
  };
}
