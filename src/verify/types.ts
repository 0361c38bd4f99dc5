import type { JwksSettings } from '../config/types.js';
import type { TokenReason } from '../errors.js';

/** Why a key store refreshed (the `cause` label of `portcullis_jwks_refresh_total`). */
export type RefreshCause = 'startup' | 'interval' | 'unknown_kid';

export interface RefreshEvent {
  readonly issuer: string;
  readonly cause: RefreshCause;
  readonly result: 'ok' | 'error';
  /** Keys held after the refresh (the last good set on error). */
  readonly keys: number;
  /** Private detail on error; never holds secrets. */
  readonly detail?: string;
}

/** Hooks the key store calls; metrics and the operational log subscribe here. */
export interface KeyStoreEvents {
  onRefresh?(event: RefreshEvent): void;
}

export interface VerifiedToken {
  /** Name of the issuer entry that verified it. */
  readonly issuer: string;
  readonly claims: Readonly<Record<string, unknown>>;
  /** `exp` in seconds since the epoch. */
  readonly exp: number;
  readonly kid: string | undefined;
}

/**
 * `fingerprint`: the first 12 hex chars (docs/operations.md) of the token's SHA-256, hashed
 * once per verdict (a cache hit carries the one it was verified with). `compact`: the token
 * string as a flat copy that holds no request header alive (the cache key of the verdict).
 * A cache hit is the same frozen object on every request.
 */
export type VerifyResult =
  | { readonly ok: true; readonly token: VerifiedToken; readonly cached: boolean; readonly fingerprint: string; readonly compact: string }
  | { readonly ok: false; readonly reason: TokenReason; readonly detail?: string; readonly fingerprint: string };

export type { JwksSettings };
