/**
 * The verified-token cache and token fingerprints.
 *
 * Enforces (SECURITY "Tokens"): entries are keyed by the SHA-256 of the exact token string
 * and carry the fingerprint of the requirements they were checked against (issuer name and
 * URL, audiences, algorithms, clock skew); a hit counts only when the issuer of that name
 * still has the same requirements and `exp` is still ahead, so a verdict is never reused
 * across different requirements. Entries live until `exp` (LRU-bounded, on the injected
 * clock). The raw token is never stored or logged.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { IssuerConfig } from '../config/types.js';
import type { VerifiedToken } from './types.js';

interface Entry {
  readonly token: VerifiedToken;
  readonly requirements: string;
}

/** Entries are keyed by `sha256Hex(token)`, computed once per request by the caller. */
export interface TokenCache {
  /** `requirementsOf(name)`: the current fingerprint of the issuer entry called `name`. */
  get(digest: string, requirementsOf: (issuerName: string) => string | undefined): VerifiedToken | undefined;
  set(digest: string, verified: VerifiedToken, requirements: string): void;
  clear(): void;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SPEC §7: the first 12 hex chars of the SHA-256 of the token (metric label, audit field). */
export function tokenFingerprint(token: string): string {
  return sha256Hex(token).slice(0, 12);
}

/** Everything a verdict depends on besides the token and the keys. */
export function requirementsFingerprint(issuer: IssuerConfig): string {
  return sha256Hex(JSON.stringify([issuer.name, issuer.issuer ?? null, issuer.audiences, issuer.algorithms, issuer.clockSkewSec]));
}

export function createTokenCache(opts: { max: number; now: () => number }): TokenCache {
  if (opts.max < 1) return { get: () => undefined, set: () => undefined, clear: () => undefined };
  const { now } = opts;
  const lru = new LRUCache<string, Entry>({ max: opts.max, perf: { now }, ttlResolution: 0 });
  return {
    get(key, requirementsOf) {
      const entry = lru.get(key);
      if (entry === undefined) return undefined;
      if (entry.token.exp * 1000 <= now() || requirementsOf(entry.token.issuer) !== entry.requirements) {
        lru.delete(key);
        return undefined;
      }
      return entry.token;
    },
    set(key, verified, requirements) {
      const ttl = Math.floor(verified.exp * 1000 - now());
      // Within the clock skew a token can verify after its exp; such a token is not cached.
      if (ttl < 1) return;
      lru.set(key, { token: verified, requirements }, { ttl });
    },
    clear: () => lru.clear(),
  };
}
