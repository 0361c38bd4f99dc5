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
