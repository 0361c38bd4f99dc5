/**
 * The verified-token cache and token fingerprints.
 *
 * Enforces: an entry is found only by the exact token string (a `Map` keyed by the token
 * itself: the engine's string hash picks the bucket and a full string comparison decides, so
 * two tokens never share a verdict, and a hit costs no cryptographic hash); a hit counts only
 * while `exp` is still ahead on the injected clock; at most `max` entries, the least recently
 * used evicted first. A cache belongs to one verifier, which belongs to one runtime state: a
 * reload builds a new, empty one, so a verdict is never reused under other requirements
 * (issuer, audiences, algorithms, clock skew). The key is a flat copy of the token, never a
 * slice of a request header (a slice would keep the whole header alive); the verdict carries
 * the token's fingerprint, hashed once when it was verified. The token is never logged.
 */
import { hash } from 'node:crypto';
import { ACCESS_TOKEN } from './jws.js';
import type { VerifiedToken } from './types.js';

/** A verdict as the cache hands it back on every hit: built once, frozen, shared. */
export interface CachedVerdict {
  readonly ok: true;
  readonly token: VerifiedToken;
  readonly cached: true;
  readonly fingerprint: string;
  /** The token string the verdict is for: a flat copy (also the cache key). */
  readonly compact: string;
}

export interface TokenCache {
  /** The verdict for exactly `token`, while its `exp` is ahead. */
  get(token: string): CachedVerdict | undefined;
  /** `verdict.compact` is the key. A verdict already past its `exp` is not stored. */
  set(verdict: CachedVerdict): void;
  clear(): void;
}

/**
 * The first 12 hex chars of the SHA-256 of the token's UTF-8 bytes (metric label, audit field).
 * One-shot `crypto.hash` (Node ≥ 20.12): about half the cost of a `createHash` object.
 */
export function tokenFingerprint(token: string): string {
  return hash('sha256', token, 'hex').slice(0, 12);
}

/**
 * A copy of `text` that holds only its own characters. A substring (the token cut out of an
 * `Authorization` header) may share the parent string's storage and keep all of it alive.
 */
export function flatCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Heap of one verdict besides its token string (claims, identity, memos, map entry): measured ~1.2 KB. */
const VERDICT_BYTES = 1280;

/** The most heap `entries` verdicts can hold: every token as long as an access token may be. */
export function cacheBoundBytes(entries: number): number {
  return entries * (ACCESS_TOKEN.maxLength + VERDICT_BYTES);
}

const NO_CACHE: TokenCache = { get: () => undefined, set: () => undefined, clear: () => undefined };

export function createTokenCache(opts: { max: number; now: () => number }): TokenCache {
  if (opts.max < 1) return NO_CACHE;
  const { max, now } = opts;
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, CachedVerdict>();
  // One iterator for every eviction: every key before its position was evicted or moved to the
  // end (a Map iterator visits keys added after it was made), so its next key is the oldest,
  // and it is never done since an eviction needs a full cache. A fresh `keys()` per eviction
  // would walk over every deleted slot at the front of the table again (3.6 against 0.25 µs).
  const order = entries.keys();
  /** The most recently used verdict: a hit on it moves nothing. */
  let newest: CachedVerdict | undefined;

  return {
    get(token) {
      const verdict = entries.get(token);
      if (verdict === undefined) return undefined;
      if (verdict.token.exp * 1000 <= now()) {
        entries.delete(token);
        return undefined;
      }
      if (verdict !== newest) {
        // Re-keyed by the stored flat copy, never by the caller's string.
        entries.delete(token);
        entries.set(verdict.compact, verdict);
        newest = verdict;
      }
      return verdict;
    },
    set(verdict) {
      // Within the clock skew a token can verify after its exp; such a token is not cached.
      if (verdict.token.exp * 1000 - now() < 1) return;
      entries.delete(verdict.compact);
      if (entries.size >= max) entries.delete(order.next().value as string);
      entries.set(verdict.compact, verdict);
      newest = verdict;
    },
    clear: () => {
      entries.clear();
      newest = undefined;
    },
  };
}
