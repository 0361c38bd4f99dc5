/**
 * Every Prometheus metric of portcullis (docs/operations.md), declared in this one place on a private
 * registry, plus the default process metrics.
 *
 * Enforces:
 * - names, types and label sets exactly as docs/operations.md lists them; `reason` '' is recorded as `none`;
 * - bounded cardinality of `portcullis_token_requests_total`: at most `tokenSeriesLimit` distinct
 *   live (token, subject) pairs get their own series, later pairs fold into `token="other",
 *   subject="other"`; a token that did not verify is always `token="other", subject="unknown"`,
 *   so no label value ever comes from an unverified token;
 * - the series of a token whose `exp` has passed are removed and its slot freed, so the limit
 *   counts live tokens: a min-heap keyed by exp is swept when a token is admitted and when the
 *   registry is collected (a scrape, or the cluster primary asking a worker) — O(1) while
 *   nothing expired, never a scan per request;
 * - `portcullis_jwks_last_success_timestamp_seconds{issuer}` is the time of the last
 *   successful key fetch (max over cluster workers);
 * - `status_class` is `1xx`..`5xx`, or `error` when there was no upstream status.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RequestDecision = 'allowed' | 'denied' | 'public';

export interface Metrics {
  readonly registry: Registry;
  request(route: string, decision: RequestDecision, reason: string): void;
  /** `exp` (seconds since the epoch) lets the token's series go once it has expired. */
  tokenRequest(
    token: { fingerprint: string; subject: string; exp?: number } | undefined,
    result: 'valid' | 'invalid',
  ): void;
  authDuration(decision: string, seconds: number): void;
  upstreamDuration(route: string, status: number, seconds: number): void;
  jwksRefresh(issuer: string, result: 'ok' | 'error', cause: string, keys: number): void;
  cacheHit(): void;
  cacheMiss(): void;
  login(kind: 'password' | 'browser', result: string): void;
  configReload(result: 'ok' | 'error'): void;
  auditDropped(): void;
  auditWriteError(): void;
  /** Applied on config reload; a lower limit removes the series admitted last. */
  setTokenSeriesLimit(limit: number): void;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  tokenSeriesLimit: number;
  /** Register the prom-client default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
}

/** Auth decisions are usually sub-millisecond (cache hits) and bounded by the JWKS timeout. */
export const AUTH_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;
/** Upstream latencies range from fast APIs to long queries up to the route timeout. */
export const UPSTREAM_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

const OTHER = 'other';
const UNKNOWN_SUBJECT = 'unknown';

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new TypeError('tokenSeriesLimit must be a non-negative integer');
  }
  return limit;
}

export function statusClass(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599
    ? `${Math.floor(status / 100)}xx`
    : 'error';
}

/** An admitted pair's series labels and when its token expires. */
interface Admitted {
  readonly token: string;
  readonly subject: string;
  readonly expSec: number;
}

/** A binary min-heap of (expSec, key): the next token to expire is always on top. */
function createExpiryHeap() {
  const heap: Array<{ expSec: number; key: string }> = [];
  const swap = (i: number, j: number): void => {
    [heap[i], heap[j]] = [heap[j]!, heap[i]!];
  };
  return {
    push(entry: { expSec: number; key: string }): void {
      heap.push(entry);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (heap[parent]!.expSec <= heap[i]!.expSec) break;
        swap(i, parent);
        i = parent;
      }
    },
    peek: () => heap[0],
    pop(): void {
      const last = heap.pop();
      if (heap.length === 0 || last === undefined) return;
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && heap[l]!.expSec < heap[min]!.expSec) min = l;
        if (r < heap.length && heap[r]!.expSec < heap[min]!.expSec) min = r;
        if (min === i) break;
        swap(i, min);
        i = min;
      }
    },
  };
}

export function createMetrics(opts: MetricsOptions): Metrics {
  let tokenSeriesLimit = checkLimit(opts.tokenSeriesLimit);
  const now = opts.now ?? Date.now;
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: 'portcullis_requests_total',
    help: 'Requests decided, by route, decision (allowed, denied, public) and reason code.',
    labelNames: ['route', 'decision', 'reason'] as const,
    registers,
  });
  const tokenRequests = new Counter({
    name: 'portcullis_token_requests_total',
    help: 'Requests per token fingerprint and subject; past the series limit counted as token="other".',
    labelNames: ['token', 'subject', 'result'] as const,
    registers,
    collect() {
      sweepExpired();
    },
  });
  const authDuration = new Histogram({
    name: 'portcullis_auth_duration_seconds',
    help: 'Time to reach an authentication and authorisation decision.',
    labelNames: ['decision'] as const,
    buckets: [...AUTH_BUCKETS],
    registers,
  });
  const upstreamDuration = new Histogram({
    name: 'portcullis_upstream_duration_seconds',
    help: 'Time until the upstream answered, by route and status class (error: no answer).',
    labelNames: ['route', 'status_class'] as const,
    buckets: [...UPSTREAM_BUCKETS],
    registers,
  });
  const jwksRefreshes = new Counter({
    name: 'portcullis_jwks_refresh_total',
    help: 'JWKS fetches per issuer, by result (ok, error) and cause (startup, interval, unknown_kid).',
    labelNames: ['issuer', 'result', 'cause'] as const,
    registers,
  });
  const jwksKeys = new Gauge({
    name: 'portcullis_jwks_keys',
    help: 'Keys currently held per issuer (with workers, the fewest any worker holds).',
    labelNames: ['issuer'] as const,
    aggregator: 'min',
    registers,
  });
  const jwksLastSuccess = new Gauge({
    name: 'portcullis_jwks_last_success_timestamp_seconds',
    help: 'Unix time of the last successful JWKS fetch per issuer (with workers, the stalest worker); alert when its age nears max_stale.',
    labelNames: ['issuer'] as const,
    aggregator: 'min',
    registers,
  });
  const cacheHits = new Counter({
    name: 'portcullis_verified_token_cache_hits_total',
    help: 'Verified-token cache hits.',
    registers,
  });
  const cacheMisses = new Counter({
    name: 'portcullis_verified_token_cache_misses_total',
    help: 'Verified-token cache misses.',
    registers,
  });
  const logins = new Counter({
    name: 'portcullis_logins_total',
    help: 'Logins by kind (password, browser) and result.',
    labelNames: ['kind', 'result'] as const,
    registers,
  });
  const configReloads = new Counter({
    name: 'portcullis_config_reloads_total',
    help: 'Configuration reloads by result (ok, error).',
    labelNames: ['result'] as const,
    registers,
  });
  const auditDropped = new Counter({
    name: 'portcullis_audit_dropped_total',
    help: 'Audit events not written (queue full, sink failed or closed).',
    registers,
  });
  const auditWriteErrors = new Counter({
    name: 'portcullis_audit_write_errors_total',
    help: 'Failures of the audit output (unwritable file, full disk, closed pipe).',
    registers,
  });

  /** Admitted (token, subject) pairs in admission order, keyed `fingerprint \0 subject`. */
  const admitted = new Map<string, Admitted>();
  /** Expiry of every admitted pair; entries of pairs removed otherwise are skipped when popped. */
  const expiries = createExpiryHeap();

  function forget(key: string, labels: Admitted): void {
    admitted.delete(key);
    tokenRequests.remove({ token: labels.token, subject: labels.subject, result: 'valid' });
    tokenRequests.remove({ token: labels.token, subject: labels.subject, result: 'invalid' });
  }

  /** Removes the series of every admitted token whose exp has passed. */
  function sweepExpired(): void {
    const nowSec = now() / 1000;
    for (let top = expiries.peek(); top !== undefined && top.expSec <= nowSec; top = expiries.peek()) {
      expiries.pop();
      const labels = admitted.get(top.key);
      if (labels !== undefined && labels.expSec === top.expSec) forget(top.key, labels);
    }
  }

  function tokenLabels(token: { fingerprint: string; subject: string; exp?: number } | undefined) {
    if (token === undefined) return { token: OTHER, subject: UNKNOWN_SUBJECT };
    const key = `${token.fingerprint}\0${token.subject}`;
    if (admitted.has(key)) return { token: token.fingerprint, subject: token.subject };
    sweepExpired();
    if (admitted.size >= tokenSeriesLimit) return { token: OTHER, subject: OTHER };
    const expSec = token.exp ?? Number.POSITIVE_INFINITY;
    admitted.set(key, { token: token.fingerprint, subject: token.subject, expSec });
    if (Number.isFinite(expSec)) expiries.push({ expSec, key });
    return { token: token.fingerprint, subject: token.subject };
  }

  return {
    registry,
    request(route, decision, reason) {
      requests.inc({ route, decision, reason: reason === '' ? 'none' : reason });
    },
    tokenRequest(token, result) {
      tokenRequests.inc({ ...tokenLabels(token), result });
    },
    authDuration(decision, seconds) {
      authDuration.observe({ decision }, seconds);
    },
    upstreamDuration(route, status, seconds) {
      upstreamDuration.observe({ route, status_class: statusClass(status) }, seconds);
    },
    jwksRefresh(issuer, result, cause, keys) {
      jwksRefreshes.inc({ issuer, result, cause });
      jwksKeys.set({ issuer }, keys);
      if (result === 'ok') jwksLastSuccess.set({ issuer }, now() / 1000);
    },
    cacheHit: () => cacheHits.inc(),
    cacheMiss: () => cacheMisses.inc(),
    login(kind, result) {
      logins.inc({ kind, result });
    },
    configReload(result) {
      configReloads.inc({ result });
    },
    auditDropped: () => auditDropped.inc(),
    auditWriteError: () => auditWriteErrors.inc(),
    setTokenSeriesLimit(limit) {
      tokenSeriesLimit = checkLimit(limit);
      // Keep the pairs admitted first; drop the series of the rest so cardinality follows
      // the new limit at once. Their later requests fold into "other".
      let kept = 0;
      for (const [key, labels] of admitted) {
        if (kept < tokenSeriesLimit) {
          kept += 1;
          continue;
        }
        forget(key, labels);
      }
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
