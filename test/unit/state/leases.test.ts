import t from 'tap';
import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import { createStateHolder } from '../../../src/state/leases.js';
import type { RuntimeState } from '../../../src/state/runtime-state.js';
import type { KeyStore } from '../../../src/verify/index.js';

/** A state that only knows its stores and reports its close (with the stores it kept). */
function fakeState(name: string, stores: readonly KeyStore[], closes: EventEmitter, fail = false): RuntimeState {
  const state = {
    stores: new Map(stores.map((store, i) => [`${name}${i}`, store])),
    async close(keep?: ReadonlySet<KeyStore>) {
      closes.emit('closed', name, stores.filter((store) => !(keep?.has(store) ?? false)));
      if (fail) throw Object.assign(new Error('close failed'), { code: 'ERR_PLUGIN_CLOSE' });
    },
  };
  return state as unknown as RuntimeState;
}

const store = (name: string): KeyStore => ({ name }) as unknown as KeyStore;
const LONG = 60_000;

t.test('a replaced state with no lease closes at once, keeping the stores its successor shares', async (t) => {
  const closes = new EventEmitter();
  const shared = store('shared');
  const own = store('own');
  const holder = createStateHolder(fakeState('a', [shared, own], closes));
  const closed = once(closes, 'closed');
  holder.replace(fakeState('b', [shared], closes), LONG);
  t.same(await closed, ['a', [own]], 'only the unshared store is closed');
  t.equal(holder.current().stores.has('b0'), true, 'the new state is current');
});

t.test('a lease keeps the replaced state open until it ends', async (t) => {
  const closes = new EventEmitter();
  const events: string[] = [];
  closes.on('closed', (name: string) => events.push(`closed ${name}`));
  const holder = createStateHolder(fakeState('a', [], closes));
  const lease = holder.acquire();
  const other = holder.acquire();
  holder.replace(fakeState('b', [], closes), LONG);
  t.equal(holder.acquire().state.stores.size, 0, 'new leases get the new state');
  await new Promise((resolve) => setImmediate(resolve));
  lease.release();
  lease.release();
  await new Promise((resolve) => setImmediate(resolve));
  events.push('released last');
  const closed = once(closes, 'closed');
  other.release();
  await closed;
  t.same(events, ['released last', 'closed a'], 'closed only after the last lease, a double release counts once');
});

t.test('a lease that never ends holds the state only up to the timeout', async (t) => {
  const closes = new EventEmitter();
  const holder = createStateHolder(fakeState('a', [], closes));
  const stuck = holder.acquire();
  const closed = once(closes, 'closed');
  // The holder's timer does not keep a process alive (a server does): this test must.
  const alive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(alive));
  holder.replace(fakeState('b', [], closes), 20);
  t.same((await closed)[0], 'a');
  stuck.release();
});

t.test('a store shared along a chain of reloads is closed by the last state that holds it', async (t) => {
  const closes = new EventEmitter();
  const seen: [string, KeyStore[]][] = [];
  closes.on('closed', (name: string, stores: KeyStore[]) => seen.push([name, stores]));
  const s = store('s');
  const holder = createStateHolder(fakeState('a', [s], closes));
  const leaseA = holder.acquire();
  holder.replace(fakeState('b', [s], closes), LONG);
  holder.replace(fakeState('c', [], closes), LONG);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(seen, [['b', []]], 'b closes at once but keeps s: a still serves a request');
  const closed = once(closes, 'closed');
  leaseA.release();
  await closed;
  t.same(seen[1], ['a', [s]], 'a, the last holder, closes s');
});

t.test('close() retires the current state and waits for every state; close errors are reported', async (t) => {
  const closes = new EventEmitter();
  const errors: unknown[] = [];
  const names: string[] = [];
  closes.on('closed', (name: string) => names.push(name));
  const holder = createStateHolder(fakeState('a', [], closes, true), (err) => errors.push(err));
  const lease = holder.acquire();
  holder.replace(fakeState('b', [], closes), LONG);
  const done = holder.close(LONG);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(names, ['b'], 'the unleased state closed; the leased one waits');
  lease.release();
  await done;
  t.same(names, ['b', 'a']);
  t.equal((errors[0] as { code?: string }).code, 'ERR_PLUGIN_CLOSE', 'a failed close is reported, not thrown');
});
