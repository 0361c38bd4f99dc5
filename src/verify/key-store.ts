/**
 * One key store per issuer: the issuer's signing keys, kept fresh.
 *
 * Enforces (docs/security.md "Keys"): one fetch in flight at a time, and a sequence number
 * so an older result never overwrites a newer one; a successful fetch replaces the whole set
 * (removed keys stop working), a failed one keeps the last good set until `maxStaleMs` after
 * the last success, then the keys are dropped; an unknown kid refetches at most once per
 * `minRefreshIntervalMs`, counted from the last attempt whatever its result, and callers in
 * the cool-down are answered at once; a known kid is never a reason to refetch; background
 * refresh on an unref'd timer. Keys that never loaded are retried with backoff (1 s doubling
 * to 30 s, also unref'd) until the first success, so an IdP that was down at start-up is
 * picked up within one step of its recovery rather than on the next `refresh_interval`.
 * A `secret` issuer gets a static store holding its HMAC key.
 */
import { createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { IssuerConfig } from '../config/types.js';
import { loadKeySet } from './discovery.js';
import { keyFitsAlg, storedKeyMatches } from './jwk.js';
import type { StoredKey } from './jwk.js';
import type { KeyStoreEvents, RefreshCause, RefreshEvent } from './types.js';

export type GetKeyResult =
  | { readonly ok: true; readonly key: KeyObject }
  | { readonly ok: false; readonly reason: 'unknown_kid' | 'auth_unavailable' };

export interface KeyStore {
  /** The issuer entry's name. */
  readonly name: string;
  /** Initial load (cause `startup`), then background refresh; never rejects. */
  start(): Promise<void>;
  /** Holds usable keys (fresh, or stale within `maxStaleMs`). */
  isReady(): boolean;
  keyCount(): number;
  getKey(kid: string | undefined, alg: string): Promise<GetKeyResult>;
  /** Whether the current set still holds the key `kid` names (any key when kid is absent). */
  holds(kid: string | undefined): boolean;
  /** Single-flight: joins the fetch in flight if there is one. Never rejects. */
  refresh(cause: RefreshCause): Promise<void>;
  close(): void;
}

export interface KeyStoreDeps {
  readonly dispatcher?: Dispatcher;
  readonly now?: () => number;
  readonly events?: KeyStoreEvents;
  /** Retry steps while keys never loaded: the first delay, doubled up to the cap (ms). */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
}

/** Start-up retry backoff: 1 s doubling to 30 s. */
export const RETRY_BACKOFF = { firstMs: 1_000, maxMs: 30_000 } as const;

const UNKNOWN_KID: GetKeyResult = { ok: false, reason: 'unknown_kid' };
const UNAVAILABLE: GetKeyResult = { ok: false, reason: 'auth_unavailable' };

export function createKeyStore(issuer: IssuerConfig, deps: KeyStoreDeps = {}): KeyStore {
  return issuer.secret === undefined ? createJwksStore(issuer, deps) : createSecretStore(issuer.name, issuer.secret);
}

function createSecretStore(name: string, secret: string): KeyStore {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    name,
    start: () => Promise.resolve(),
    isReady: () => true,
    keyCount: () => 1,
    getKey: (_kid, alg) => Promise.resolve(keyFitsAlg(key, alg) ? { ok: true, key } : UNKNOWN_KID),
    holds: () => true,
    refresh: () => Promise.resolve(),
    close: () => undefined,
  };
}

function createJwksStore(issuer: IssuerConfig, deps: KeyStoreDeps): KeyStore {
  const now = deps.now ?? Date.now;
  const settings = issuer.jwks;
  let keys: readonly StoredKey[] = [];
  let lastSuccessAt: number | undefined;
  let lastAttemptAt: number | undefined;
  let jwksUri: string | undefined;
  let inflight: Promise<void> | undefined;
  let attempts = 0;
  let appliedAttempt = 0;
  let timer: NodeJS.Timeout | undefined;
  const backoff = deps.retry ?? RETRY_BACKOFF;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelayMs = backoff.firstMs;
  let closed = false;

  /** The usable set; keys past `maxStaleMs` since the last success are dropped here. */
  function current(): readonly StoredKey[] {
    if (keys.length > 0 && lastSuccessAt !== undefined && now() - lastSuccessAt > settings.maxStaleMs) keys = [];
    return keys;
  }

  function emit(event: RefreshEvent): void {
    try {
      deps.events?.onRefresh?.(event);
    } catch {
      // A failing metrics or log hook must not turn a refresh into a rejection.
    }
  }

  async function attempt(seq: number, cause: RefreshCause): Promise<void> {
    const loaded = await loadKeySet(issuer, jwksUri, deps);
    if (loaded.ok && seq > appliedAttempt) {
      appliedAttempt = seq;
      keys = loaded.keys;
      jwksUri = loaded.jwksUri;
      lastSuccessAt = now();
    }
    const held = current().length;
    if (loaded.ok) emit({ issuer: issuer.name, cause, result: 'ok', keys: held });
    else emit({ issuer: issuer.name, cause, result: 'error', keys: held, detail: `${loaded.stage}: ${loaded.detail}` });
  }

  function refresh(cause: RefreshCause): Promise<void> {
    if (inflight !== undefined) return inflight;
    attempts += 1;
    lastAttemptAt = now();
    inflight = attempt(attempts, cause).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function lookup(kid: string | undefined, alg: string): KeyObject | undefined {
    const set = current();
    if (kid !== undefined) return set.find((k) => k.kid === kid && storedKeyMatches(k, alg))?.key;
    // Without a kid, only an unambiguous key is used.
    const fitting = set.filter((k) => storedKeyMatches(k, alg));
    return fitting.length === 1 ? fitting[0]?.key : undefined;
  }

  function miss(): GetKeyResult {
    return current().length === 0 ? UNAVAILABLE : UNKNOWN_KID;
  }

  async function getKey(kid: string | undefined, alg: string): Promise<GetKeyResult> {
    const key = lookup(kid, alg);
    if (key !== undefined) return { ok: true, key };
    // The kid is published but not for this alg: a refetch would not change that.
    if (kid !== undefined && current().some((k) => k.kid === kid)) return UNKNOWN_KID;
    if (inflight !== undefined) {
      await inflight;
    } else if (lastAttemptAt === undefined || now() - lastAttemptAt >= settings.minRefreshIntervalMs) {
      await refresh(lastSuccessAt === undefined ? 'startup' : 'unknown_kid');
    } else {
      return miss();
    }
    const found = lookup(kid, alg);
    return found === undefined ? miss() : { ok: true, key: found };
  }

  /** Until the first success: one more attempt after the current step, then the step doubles. */
  function scheduleRetry(): void {
    if (closed || lastSuccessAt !== undefined || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void refresh('startup').then(scheduleRetry);
    }, retryDelayMs);
    retryTimer.unref();
    retryDelayMs = Math.min(retryDelayMs * 2, backoff.maxMs);
  }

  return {
    name: issuer.name,
    start() {
      if (timer === undefined) {
        timer = setInterval(() => void refresh('interval'), settings.refreshIntervalMs);
        timer.unref();
      }
      return refresh('startup').then(scheduleRetry);
    },
    isReady: () => current().length > 0,
    holds: (kid) => (kid === undefined ? current().length > 0 : current().some((k) => k.kid === kid)),
    keyCount: () => current().length,
    getKey,
    refresh,
    close() {
      closed = true;
      clearInterval(timer);
      clearTimeout(retryTimer);
      timer = undefined;
      retryTimer = undefined;
    },
  };
}
