/**
 * The verified-token cache and token fingerprints.
 *
 * Enforces: an entry is found only by the exact token string (lru-cache's `Map`, keyed by the
 * token itself: the engine's string hash picks the bucket and a full string comparison decides,
 * so two tokens never share a verdict, and a hit costs no cryptographic hash); a hit counts only
 * while `exp` is still ahead on the injected clock; at most `max` entries and at most a byte
 * budget of them (so the cache cannot fill the heap whatever the tokens' lengths), the least
 * recently used evicted first. A cache belongs to one verifier, which belongs to one runtime
 * state: a reload builds a new, empty one, so a verdict is never reused under other requirements
 * (issuer, audiences, algorithms, clock skew). The key is a flat copy of the token, never a
 * slice of a request header (a slice would keep the whole header alive); the verdict carries
 * the token's fingerprint, hashed once when it was verified. The token is never logged.
 */
import { hash } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { LRUCache } from 'lru-cache';
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

/** Objects of one verdict besides its strings (claims, identity, memos, list slot): measured ~1.2 KB. */
const VERDICT_OBJECT_BYTES = 1280;

/**
 * What one verdict may hold on the heap: its token, the claims decoded from it and the header
 * blocks built from them (each at most about the token's length), and its objects. An
 * over-estimate for ordinary tokens (measured: ~1.2 KB plus the token's length), so that a
 * cache of long tokens with large claims stays inside its byte budget too.
 */
export function verdictBytes(verdict: CachedVerdict): number {
  return 3 * verdict.compact.length + VERDICT_OBJECT_BYTES;
}

/** The default byte budget: half of V8's heap limit, whatever the tokens' sizes. */
const HEAP_SHARE = 0.5;

const NO_CACHE: TokenCache = { get: () => undefined, set: () => undefined, clear: () => undefined };

/**
 * At most `max` verdicts and at most `maxBytes` of them by `verdictBytes` (default: half of
 * V8's heap limit), least recently used evicted first.
 */
export function createTokenCache(opts: { max: number; now: () => number; maxBytes?: number }): TokenCache {
  if (opts.max < 1) return NO_CACHE;
  const { max, now } = opts;
  const maxSize = opts.maxBytes ?? Math.floor(getHeapStatistics().heap_size_limit * HEAP_SHARE);
  // lru-cache without its TTL machinery (expiry is checked here, against the verdict's own
  // exp): a doubly linked list over preallocated slots, so a hit relinks two indices and never
  // deletes and re-inserts a Map entry (0.04 against 0.24 µs per hit; a Map used as the list
  // leaves a deleted slot per hit and per eviction, which V8 must walk over or compact).
  const entries = new LRUCache<string, CachedVerdict>({ max, maxSize, sizeCalculation: verdictBytes });
  return {
    get(token) {
      const verdict = entries.get(token);
      if (verdict === undefined) return undefined;
      if (verdict.token.exp * 1000 > now()) return verdict;
      entries.delete(token);
      return undefined;
    },
    set(verdict) {
      // Within the clock skew a token can verify after its exp; such a token is not cached.
      if (verdict.token.exp * 1000 - now() < 1) return;
      // Keyed by the stored flat copy, never by a caller's string.
      entries.set(verdict.compact, verdict);
    },
    clear: () => entries.clear(),
  };
}
