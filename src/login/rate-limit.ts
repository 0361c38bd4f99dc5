/**
 * Failed-login rate limiting (SPEC §3 `login.rate_limit`, §6): failures are counted per key
 * (the lower-cased username and the client address, each its own key) in a sliding window of
 * `perMs`; once a key holds `attempts` failures inside the window, attempts are refused until
 * its oldest counted failure leaves the window.
 *
 * Enforces: the check happens before the IdP is asked, so a refused attempt costs the IdP
 * nothing; attempts still waiting for the IdP count against the limit (`begin`/`end`), so a
 * burst of concurrent guesses cannot all pass the check before the first failure is counted; memory is bounded (an LRU of at most `maxKeys` keys, each holding at most
 * `attempts` timestamps); limits are read per call, so a reloaded config applies at once;
 * the clock is injected.
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
