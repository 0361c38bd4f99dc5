/**
 * Failed-login rate limiting (docs/configuration.md `login.rate_limit`, docs/routing.md): failures are counted per key
 * (the lower-cased username and the client address, each its own key, so a username is refused
 * from every address and an address for every username, while other users on other addresses
 * are never refused for someone else's failures) in a sliding window of
 * `perMs`; once a key holds `attempts` failures inside the window, attempts are refused until
 * its oldest counted failure leaves the window.
 *
 * Enforces: the check happens before the IdP is asked, so a refused attempt costs the IdP
 * nothing; attempts still waiting for the IdP count against the limit (`begin`/`end`), so a
 * burst of concurrent guesses cannot all pass the check before the first failure is counted; memory is bounded (an LRU of at most `maxKeys` keys, each holding at most
 * `attempts` timestamps); limits are read per call, so a reloaded config applies at once;
 * the clock is injected. In a `workers:` cluster the primary holds the one limiter and the
 * workers ask it over IPC (`workerThrottle`, `serveThrottle`).
 */
import { LRUCache } from 'lru-cache';

export interface RateLimit {
  readonly attempts: number;
  readonly perMs: number;
}

export interface RateLimiter {
  /** Seconds until an attempt with these keys is allowed again; 0 when it is allowed now. */
  retryAfterSec(keys: readonly string[], limit: RateLimit): number;
  /** Marks an attempt with these keys as in flight at the IdP (counted by retryAfterSec). */
  begin(keys: readonly string[]): void;
  /** The attempt begun with these keys has its answer. */
  end(keys: readonly string[]): void;
  /** Counts one failure against every key. */
  failure(keys: readonly string[], limit: RateLimit): void;
  /** Forgets the failures of one key (a successful login for that username). */
  forget(key: string): void;
  /** Keys currently tracked. */
  size(): number;
}

export const DEFAULT_MAX_KEYS = 10_000;

export function createRateLimiter(opts: { maxKeys?: number; now?: () => number } = {}): RateLimiter {
  const now = opts.now ?? Date.now;
  const failures = new LRUCache<string, number[]>({ max: opts.maxKeys ?? DEFAULT_MAX_KEYS });
  /** Attempts in flight per key; bounded by the number of open requests. */
  const pending = new Map<string, number>();
  /** While attempts are in flight, a refused caller is told to retry after this long. */
  const PENDING_RETRY_MS = 1_000;

  /** The failures of `key` still inside the window, oldest first (stored back pruned). */
  function recent(key: string, limit: RateLimit, at: number): number[] {
    const times = failures.get(key);
    if (times === undefined) return [];
    const kept = times.filter((t) => t > at - limit.perMs);
    if (kept.length === 0) failures.delete(key);
    else if (kept.length !== times.length) failures.set(key, kept);
    return kept;
  }

  return {
    retryAfterSec(keys, limit) {
      const at = now();
      let waitMs = 0;
      for (const key of keys) {
        const times = recent(key, limit, at);
        const inFlight = pending.get(key) ?? 0;
        if (times.length + inFlight < limit.attempts) continue;
        if (times.length < limit.attempts) {
          // Only the attempts still at the IdP fill the limit: retry once they are answered.
          waitMs = Math.max(waitMs, PENDING_RETRY_MS);
          continue;
        }
        // The attempt frees once enough failures have left the window to fall below the limit.
        const freeing = times[times.length - limit.attempts] ?? at;
        waitMs = Math.max(waitMs, freeing + limit.perMs - at);
      }
      return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
    },
    begin(keys) {
      for (const key of keys) pending.set(key, (pending.get(key) ?? 0) + 1);
    },
    end(keys) {
      for (const key of keys) {
        const left = (pending.get(key) ?? 0) - 1;
        if (left > 0) pending.set(key, left);
        else pending.delete(key);
      }
    },
    failure(keys, limit) {
      const at = now();
      for (const key of keys) {
        const times = [...recent(key, limit, at), at];
        failures.set(key, times.slice(-limit.attempts));
      }
    },
    forget(key) {
      failures.delete(key);
    },
    size: () => failures.size,
  };
}

/** The answer to a login attempt asking to go ahead. */
export type Admission =
  | {
      readonly ok: true;
      /** The attempt has its answer; `failed` counts one failure against every key. Call once. */
      done(failed: boolean): void;
    }
  | { readonly ok: false; readonly reason: 'rate_limited'; readonly retryAfterSec: number }
  | { readonly ok: false; readonly reason: 'rate_limit_unavailable' };

/**
 * What a login endpoint talks to: the counter itself in a single process, the primary's counter
 * over IPC in a `workers:` cluster (so every worker of one `serve` shares one count).
 */
export interface LoginThrottle {
  /** Checks the keys and, when the attempt may go ahead, counts it as in flight, in one step. */
  admit(keys: readonly string[], limit: RateLimit): Promise<Admission>;
  /** Forgets the failures of one key (a successful login for that username). */
  forget(key: string): void;
}

function refusal(retryAfterSec: number): Admission {
  return { ok: false, reason: 'rate_limited', retryAfterSec };
}

export function localThrottle(limiter: RateLimiter): LoginThrottle {
  return {
    admit(keys, limit) {
      const wait = limiter.retryAfterSec(keys, limit);
      if (wait > 0) return Promise.resolve(refusal(wait));
      limiter.begin(keys);
      return Promise.resolve({
        ok: true,
        done(failed) {
          if (failed) limiter.failure(keys, limit);
          limiter.end(keys);
        },
      });
    },
    forget: (key) => limiter.forget(key),
  };
}

const TAG = 'portcullis:throttle';

export type ThrottleMessage =
  | { readonly type: typeof TAG; readonly op: 'admit'; readonly id: number; readonly keys: readonly string[]; readonly limit: RateLimit }
  | { readonly type: typeof TAG; readonly op: 'done'; readonly id: number; readonly failed: boolean }
  | { readonly type: typeof TAG; readonly op: 'forget'; readonly key: string }
  | { readonly type: typeof TAG; readonly op: 'admitted'; readonly id: number; readonly retryAfterSec: number };

/** One end of a node:cluster IPC channel: `process` in a worker, a `Worker` in the primary. */
export interface Channel {
  send(message: ThrottleMessage): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

function isThrottleMessage(message: unknown): message is ThrottleMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === TAG;
}

/** Sends, reporting a closed channel as false instead of throwing. */
function post(channel: Channel, message: ThrottleMessage): boolean {
  try {
    return channel.send(message) !== false;
  } catch {
    return false;
  }
}

/**
 * A worker's throttle: every question goes to the primary. An answer that does not come within
 * `timeoutMs` refuses the attempt (`rate_limit_unavailable`, 503): without the shared count the
 * attempt cannot be judged, so it is not let through on a per-worker guess. A late "go ahead"
 * is handed straight back, so the primary does not keep counting an attempt nobody makes.
 */
export function workerThrottle(channel: Channel, timeoutMs: number): LoginThrottle {
  let next = 0;
  const waiting = new Map<number, (retryAfterSec: number) => void>();
  channel.on('message', (message) => {
    if (!isThrottleMessage(message) || message.op !== 'admitted') return;
    const answer = waiting.get(message.id);
    waiting.delete(message.id);
    if (answer) answer(message.retryAfterSec);
    else if (message.retryAfterSec === 0) post(channel, { type: TAG, op: 'done', id: message.id, failed: false });
  });
  const unavailable: Admission = { ok: false, reason: 'rate_limit_unavailable' };
  return {
    admit(keys, limit) {
      next = next >= Number.MAX_SAFE_INTEGER ? 1 : next + 1;
      const id = next;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(unavailable);
        }, timeoutMs);
        waiting.set(id, (retryAfterSec) => {
          clearTimeout(timer);
          if (retryAfterSec > 0) return resolve(refusal(retryAfterSec));
          resolve({ ok: true, done: (failed) => void post(channel, { type: TAG, op: 'done', id, failed }) });
        });
        if (!post(channel, { type: TAG, op: 'admit', id, keys, limit })) {
          waiting.delete(id);
          clearTimeout(timer);
          resolve(unavailable);
        }
      });
    },
    forget(key) {
      post(channel, { type: TAG, op: 'forget', key });
    },
  };
}

/**
 * The primary's side for one worker: answers its questions from the one shared limiter. The
 * attempts it admitted that are still open are ended when the worker goes away (the returned
 * function), so a dead worker leaves no attempt counted as in flight.
 */
export function serveThrottle(limiter: RateLimiter, worker: Channel): () => void {
  const open = new Map<number, { keys: readonly string[]; limit: RateLimit }>();
  const onMessage = (message: unknown): void => {
    if (!isThrottleMessage(message)) return;
    if (message.op === 'admit') {
      const retryAfterSec = limiter.retryAfterSec(message.keys, message.limit);
      if (retryAfterSec === 0) {
        limiter.begin(message.keys);
        open.set(message.id, { keys: message.keys, limit: message.limit });
      }
      post(worker, { type: TAG, op: 'admitted', id: message.id, retryAfterSec });
    } else if (message.op === 'done') {
      const attempt = open.get(message.id);
      if (attempt === undefined) return;
      open.delete(message.id);
      if (message.failed) limiter.failure(attempt.keys, attempt.limit);
      limiter.end(attempt.keys);
    } else if (message.op === 'forget') {
      limiter.forget(message.key);
    }
  };
  worker.on('message', onMessage);
  return () => {
    worker.off('message', onMessage);
    for (const { keys } of open.values()) limiter.end(keys);
    open.clear();
  };
}
