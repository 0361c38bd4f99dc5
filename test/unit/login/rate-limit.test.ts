import t from 'tap';
import { createRateLimiter } from '../../../src/login/rate-limit.js';

const LIMIT = { attempts: 3, perMs: 60_000 };

t.test('window: blocked at the limit, freed when the oldest failure leaves', async (t) => {
  let now = 1_000_000;
  const rl = createRateLimiter({ now: () => now });
  const keys = ['user:alice', 'ip:10.0.0.1'];
  t.equal(rl.retryAfterSec(keys, LIMIT), 0, 'allowed before any failure');
  rl.failure(keys, LIMIT);
  now += 10_000;
  rl.failure(keys, LIMIT);
  t.equal(rl.retryAfterSec(keys, LIMIT), 0, 'allowed below the limit');
  now += 10_000;
  rl.failure(keys, LIMIT);
  t.equal(rl.retryAfterSec(keys, LIMIT), 40, 'blocked: the first failure leaves the window in 40 s');
  now += 39_500;
  t.equal(rl.retryAfterSec(keys, LIMIT), 1, 'half a second left rounds up to 1');
  now += 500;
  t.equal(rl.retryAfterSec(keys, LIMIT), 0, 'allowed once the first failure has left');
});

t.test('per user and per IP are separate keys', async (t) => {
  const now = 5_000_000;
  const rl = createRateLimiter({ now: () => now });
  for (let i = 0; i < 3; i += 1) rl.failure([`user:u${i}`, 'ip:10.0.0.9'], LIMIT);
  t.equal(rl.retryAfterSec(['user:fresh', 'ip:10.0.0.9'], LIMIT), 60, 'the IP is blocked for any username');
  t.equal(rl.retryAfterSec(['user:u0', 'ip:10.0.0.10'], LIMIT), 0, 'one failure per user does not block the user elsewhere');
  for (let i = 0; i < 3; i += 1) rl.failure(['user:bob', `ip:10.1.0.${i}`], LIMIT);
  t.equal(rl.retryAfterSec(['user:bob', 'ip:10.2.0.1'], LIMIT), 60, 'the user is blocked from any address');
  rl.forget('user:bob');
  t.equal(rl.retryAfterSec(['user:bob', 'ip:10.2.0.1'], LIMIT), 0, 'forget clears the user key');
});

t.test('a lower limit after reload applies at once', async (t) => {
  const now = 1;
  const rl = createRateLimiter({ now: () => now });
  rl.failure(['k'], LIMIT);
  rl.failure(['k'], LIMIT);
  t.equal(rl.retryAfterSec(['k'], LIMIT), 0);
  t.equal(rl.retryAfterSec(['k'], { attempts: 2, perMs: 60_000 }), 60);
});

t.test('bounded: the least recently used keys are evicted', async (t) => {
  const rl = createRateLimiter({ maxKeys: 100, now: () => 1 });
  for (let i = 0; i < 1000; i += 1) rl.failure([`user:${i}`], LIMIT);
  t.equal(rl.size(), 100);
  t.equal(rl.retryAfterSec(['user:999'], { attempts: 1, perMs: 60_000 }), 60, 'a recent key is kept');
  t.equal(rl.retryAfterSec(['user:0'], { attempts: 1, perMs: 60_000 }), 0, 'the oldest key is gone');
});

t.test('attempts still at the IdP count: a concurrent burst cannot pass the check at once', async (t) => {
  const limiter = createRateLimiter({ now: () => 1_000_000 });
  const limit = { attempts: 3, perMs: 60_000 };
  const keys = ['user:bob', 'ip:10.0.0.1'];
  for (let i = 0; i < 3; i++) {
    t.equal(limiter.retryAfterSec(keys, limit), 0, `attempt ${i + 1} may go`);
    limiter.begin(keys);
  }
  t.equal(limiter.retryAfterSec(keys, limit), 1, 'the fourth concurrent attempt waits for the others');
  t.equal(limiter.retryAfterSec(['user:alice', 'ip:10.0.0.2'], limit), 0, 'other keys are not affected');
  limiter.end(keys);
  t.equal(limiter.retryAfterSec(keys, limit), 0, 'one answered (success): room again');
  limiter.failure(keys, limit);
  limiter.end(keys);
  limiter.failure(keys, limit);
  limiter.end(keys);
  limiter.failure(keys, limit);
  t.equal(limiter.retryAfterSec(keys, limit), 60, 'three failures: the window decides again');
});

import { EventEmitter } from 'node:events';
import { localThrottle, serveThrottle, workerThrottle } from '../../../src/login/rate-limit.js';
import type { Channel, ThrottleMessage } from '../../../src/login/rate-limit.js';

/** Two ends of an in-memory IPC pipe; `deliver` false drops what the worker sends. */
function pipe(opts: { deliver: () => boolean }): { worker: Channel; primary: Channel } {
  const toWorker = new EventEmitter();
  const toPrimary = new EventEmitter();
  const end = (inbox: EventEmitter, outbox: EventEmitter, gated: boolean): Channel => ({
    send: (m: ThrottleMessage) => {
      if (!gated || opts.deliver()) setImmediate(() => outbox.emit('message', structuredClone(m)));
      return true;
    },
    on: (e, l) => inbox.on(e, l),
    off: (e, l) => inbox.off(e, l),
  });
  return { worker: end(toWorker, toPrimary, true), primary: end(toPrimary, toWorker, false) };
}

t.test('local throttle: admit counts in flight, done counts the failure', async (t) => {
  const throttle = localThrottle(createRateLimiter({ now: () => 1 }));
  const keys = ['user:a', 'ip:1'];
  const limit = { attempts: 1, perMs: 60_000 };
  const first = await throttle.admit(keys, limit);
  t.equal(first.ok, true);
  t.same(await throttle.admit(keys, limit), { ok: false, reason: 'rate_limited', retryAfterSec: 1 }, 'busy while the first is at the IdP');
  if (first.ok) first.done(true);
  t.same(await throttle.admit(keys, limit), { ok: false, reason: 'rate_limited', retryAfterSec: 60 });
  throttle.forget('user:a');
  t.same(await throttle.admit(['user:a', 'ip:2'], limit).then((a) => a.ok), true, 'forgotten user from another address');
});

t.test('workers share the primary count', async (t) => {
  const limiter = createRateLimiter({ now: () => 1 });
  const a = pipe({ deliver: () => true });
  const b = pipe({ deliver: () => true });
  const releaseA = serveThrottle(limiter, a.primary);
  serveThrottle(limiter, b.primary);
  const wa = workerThrottle(a.worker, 5_000);
  const wb = workerThrottle(b.worker, 5_000);
  const limit = { attempts: 2, perMs: 60_000 };
  for (const w of [wa, wb]) {
    const admitted = await w.admit(['user:eve', 'ip:9'], limit);
    t.equal(admitted.ok, true);
    if (admitted.ok) admitted.done(true);
  }
  await new Promise((resolve) => setImmediate(resolve));
  t.same(await wa.admit(['user:eve', 'ip:8'], limit), { ok: false, reason: 'rate_limited', retryAfterSec: 60 }, 'two failures over two workers reach the limit');
  const open = await wa.admit(['user:ann', 'ip:7'], limit);
  t.equal(open.ok, true, 'another user elsewhere goes ahead');
  releaseA();
  t.equal(limiter.retryAfterSec(['user:ann', 'ip:7'], { attempts: 1, perMs: 60_000 }), 0, 'a gone worker leaves nothing in flight');
});

t.test('no answer from the primary refuses the attempt, and a late yes is handed back', async (t) => {
  let deliver = false;
  const limiter = createRateLimiter({ now: () => 1 });
  const p = pipe({ deliver: () => deliver });
  serveThrottle(limiter, p.primary);
  const w = workerThrottle(p.worker, 20);
  t.same(await w.admit(['user:x', 'ip:1'], { attempts: 5, perMs: 1000 }), { ok: false, reason: 'rate_limit_unavailable' });
  const closed = workerThrottle({ send: () => false, on: () => undefined, off: () => undefined }, 1_000);
  t.same(await closed.admit(['user:x'], { attempts: 5, perMs: 1000 }), { ok: false, reason: 'rate_limit_unavailable' }, 'a closed channel refuses at once');
  // A slow primary: the answer arrives after the worker gave up.
  deliver = true;
  const slow = pipe({ deliver: () => true });
  serveThrottle(limiter, { ...slow.primary, send: (m) => void setTimeout(() => slow.primary.send(m), 50) });
  const late = workerThrottle(slow.worker, 10);
  t.same(await late.admit(['user:late'], { attempts: 1, perMs: 60_000 }), { ok: false, reason: 'rate_limit_unavailable' });
  await new Promise((resolve) => setTimeout(resolve, 120));
  t.equal(limiter.retryAfterSec(['user:late'], { attempts: 1, perMs: 60_000 }), 0, 'the late admission was released');
});
