/**
 * The per-token series of `portcullis_token_requests_total` (docs/operations.md).
 *
 * Enforces:
 * - at most `limit` distinct live (token, subject) pairs get their own series, later pairs fold
 *   into `token="other", subject="other"`; a token that did not verify is always
 *   `token="other", subject="unknown"`, so no label value ever comes from an unverified token;
 * - the series of a token whose `exp` has passed are removed and its slot freed, so the limit
 *   counts live tokens: a min-heap keyed by exp is swept when a token is admitted and when the
 *   registry is collected — O(1) while nothing expired, never a scan per request;
 * - a lower limit (config reload) keeps the pairs admitted first and removes the rest;
 * - a request adds one to its pair's tally slot (tally.ts): no label object, no hashing.
 */
import type { Counter } from 'prom-client';
import { createExpiryHeap } from './expiry-heap.js';
import { createTally } from './tally.js';
import type { Slot } from './tally.js';

/** A verified token's series: its fingerprint and subject; `exp` lets the series go at expiry. */
export interface TokenSeries {
  readonly fingerprint: string;
  readonly subject: string;
  readonly exp?: number | undefined;
}

export type TokenResult = 'valid' | 'invalid';

type Labels = 'token' | 'subject' | 'result';

const OTHER = 'other';
const UNKNOWN_SUBJECT = 'unknown';

/** An admitted pair's series labels, its tally slots and when its token expires. */
interface Admitted {
  readonly token: string;
  readonly subject: string;
  readonly expSec: number;
  valid?: Slot;
  invalid?: Slot;
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new TypeError('tokenSeriesLimit must be a non-negative integer');
  }
  return limit;
}

export function createTokenSeries(counter: Counter<Labels>, opts: { limit: number; now: () => number }) {
  let limit = checkLimit(opts.limit);
  const tally = createTally<Labels>();
  const foldedInto = (subject: string): Record<TokenResult, Slot> => ({
    valid: tally.slot({ token: OTHER, subject, result: 'valid' }),
    invalid: tally.slot({ token: OTHER, subject, result: 'invalid' }),
  });
  const unverified = foldedInto(UNKNOWN_SUBJECT);
  const overLimit = foldedInto(OTHER);
  /** Admitted (token, subject) pairs in admission order, keyed `fingerprint \0 subject`. */
  const admitted = new Map<string, Admitted>();
  /** The first admitted pair of each fingerprint: found without building the key. */
  const byFingerprint = new Map<string, Admitted>();
  /** Expiry of every admitted pair; entries of pairs removed otherwise are skipped when popped. */
  const expiries = createExpiryHeap();

  function forget(key: string, pair: Admitted): void {
    admitted.delete(key);
    if (byFingerprint.get(pair.token) === pair) byFingerprint.delete(pair.token);
    if (pair.valid !== undefined) tally.drop(pair.valid);
    if (pair.invalid !== undefined) tally.drop(pair.invalid);
    counter.remove({ token: pair.token, subject: pair.subject, result: 'valid' });
    counter.remove({ token: pair.token, subject: pair.subject, result: 'invalid' });
  }

  /** Removes the series of every admitted token whose exp has passed. */
  function sweepExpired(): void {
    const nowSec = opts.now() / 1000;
    for (let top = expiries.peek(); top !== undefined && top.expSec <= nowSec; top = expiries.peek()) {
      expiries.pop();
      const pair = admitted.get(top.key);
      if (pair !== undefined && pair.expSec === top.expSec) forget(top.key, pair);
    }
  }

  /** The admitted pair of a verified token, admitting it while the limit allows. */
  function admittedPair(token: TokenSeries): Admitted | undefined {
    const first = byFingerprint.get(token.fingerprint);
    if (first !== undefined && first.subject === token.subject) return first;
    const key = `${token.fingerprint}\0${token.subject}`;
    const known = admitted.get(key);
    if (known !== undefined) return known;
    sweepExpired();
    if (admitted.size >= limit) return undefined;
    const expSec = token.exp ?? Number.POSITIVE_INFINITY;
    const pair: Admitted = { token: token.fingerprint, subject: token.subject, expSec };
    admitted.set(key, pair);
    if (!byFingerprint.has(pair.token)) byFingerprint.set(pair.token, pair);
    if (Number.isFinite(expSec)) expiries.push({ expSec, key });
    return pair;
  }

  return {
    count(token: TokenSeries | undefined, result: TokenResult): void {
      const pair = token === undefined ? undefined : admittedPair(token);
      if (pair === undefined) {
        (token === undefined ? unverified : overLimit)[result].n += 1;
        return;
      }
      (pair[result] ??= tally.slot({ token: pair.token, subject: pair.subject, result })).n += 1;
    },
    /** The counter's `collect`: expired series go, pending counts are handed over. */
    collect(): void {
      sweepExpired();
      tally.flush(counter);
    },
    setLimit(next: number): void {
      limit = checkLimit(next);
      // Keep the pairs admitted first; drop the series of the rest so cardinality follows
      // the new limit at once. Their later requests fold into "other".
      let kept = 0;
      for (const [key, pair] of admitted) {
        if (kept < limit) {
          kept += 1;
          continue;
        }
        forget(key, pair);
      }
    },
  };
}
