/**
 * The verified-token cache and token fingerprints.
 *
 * Enforces: entries are keyed by the SHA-256 of the exact token string; a hit counts only
 * while `exp` is still ahead. A cache belongs to one verifier, which belongs to one runtime
 * state: a reload builds a new, empty one, so a verdict is never reused under other
 * requirements (issuer, audiences, algorithms, clock skew). Entries live until `exp`
 * (LRU-bounded, on the injected clock). The raw token is never stored or logged.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { VerifiedToken } from './types.js';

/** Entries are keyed by `sha256Hex(token)`, computed once per request by the caller. */
export interface TokenCache {
  get(digest: string): VerifiedToken | undefined;
  set(digest: string, verified: VerifiedToken): void;
  clear(): void;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The first 12 hex chars of the SHA-256 of the token (metric label, audit field). */
export function tokenFingerprint(token: string): string {
  return sha256Hex(token).slice(0, 12);
}

export function createTokenCache(opts: { max: number; now: () => number }): TokenCache {
  if (opts.max < 1) return { get: () => undefined, set: () => undefined, clear: () => undefined };
  const { now } = opts;
  const lru = new LRUCache<string, VerifiedToken>({ max: opts.max, perf: { now }, ttlResolution: 0 });
  return {
    get(key) {
      const token = lru.get(key);
      if (token === undefined) return undefined;
      if (token.exp * 1000 <= now()) {
        lru.delete(key);
        return undefined;
      }
      return token;
    },
    set(key, verified) {
      const ttl = Math.floor(verified.exp * 1000 - now());
      // Within the clock skew a token can verify after its exp; such a token is not cached.
      if (ttl < 1) return;
      lru.set(key, verified, { ttl });
    },
    clear: () => lru.clear(),
  };
}
