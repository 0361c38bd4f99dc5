/**
 * Every Prometheus metric of portcullis (docs/operations.md), declared in this one place on a private
 * registry, plus the default process metrics.
 *
 * Enforces:
 * - names, types and label sets exactly as docs/operations.md lists them; `reason` '' is recorded as `none`;
 * - bounded cardinality of `portcullis_token_requests_total` (at most `tokenSeriesLimit` live
 *   tokens get their own series, never a label from an unverified token): token-series.ts;
 * - the counters of every request (requests, per token, cache hits and misses) add to tally
 *   slots (tally.ts), handed to prom-client when the registry is collected (a scrape, or the
 *   cluster primary asking a worker), so a request pays no label hashing for them; the two
 *   duration histograms likewise keep their own bucket counts (histogram-tally.ts);
 * - `portcullis_jwks_last_success_timestamp_seconds{issuer}` is the time of the last
 *   successful key fetch (max over cluster workers);
 * - `status_class` is `1xx`..`5xx`, or `error` when there was no upstream status.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { TalliedHistogram } from './histogram-tally.js';
import { createTally, slotsByTriple } from './tally.js';
import { checkLimit, createTokenSeries } from './token-series.js';
import type { TokenResult, TokenSeries } from './token-series.js';

export type RequestDecision = 'allowed' | 'denied' | 'public';

export interface Metrics {
  readonly registry: Registry;
  request(route: string, decision: RequestDecision, reason: string): void;
  /** `exp` (seconds since the epoch) lets the token's series go once it has expired. */
  tokenRequest(token: TokenSeries | undefined, result: TokenResult): void;
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

export function statusClass(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599
    ? `${Math.floor(status / 100)}xx`
    : 'error';
}

export function createMetrics(opts: MetricsOptions): Metrics {
  checkLimit(opts.tokenSeriesLimit);
  const now = opts.now ?? Date.now;
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Counter({
    name: 'portcullis_requests_total',
    help: 'Requests decided, by route, decision (allowed, denied, public) and reason code.',
    labelNames: ['route', 'decision', 'reason'] as const,
    registers,
    collect() {
      requestTally.flush(this);
    },
  });
  const tokenRequests = new Counter({
    name: 'portcullis_token_requests_total',
    help: 'Requests per token fingerprint and subject; past the series limit counted as token="other".',
    labelNames: ['token', 'subject', 'result'] as const,
    registers,
    collect() {
      tokenSeries.collect();
    },
  });
  const authDuration = new TalliedHistogram({
    name: 'portcullis_auth_duration_seconds',
    help: 'Time to reach an authentication and authorisation decision.',
    labelNames: ['decision'] as const,
    buckets: [...AUTH_BUCKETS],
    registers,
  });
  const upstreamDuration = new TalliedHistogram({
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
  new Counter({
    name: 'portcullis_verified_token_cache_hits_total',
    help: 'Verified-token cache hits.',
    registers,
    collect() {
      hitTally.flush(this);
    },
  });
  new Counter({
    name: 'portcullis_verified_token_cache_misses_total',
    help: 'Verified-token cache misses.',
    registers,
    collect() {
      missTally.flush(this);
    },
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

  const requestTally = createTally<'route' | 'decision' | 'reason'>();
  const requestSlot = slotsByTriple(requestTally, (route, decision, reason) => ({ route, decision, reason: reason === '' ? 'none' : reason }));
  const hitTally = createTally<never>();
  const hits = hitTally.slot({});
  const missTally = createTally<never>();
  const misses = missTally.slot({});
  const tokenSeries = createTokenSeries(tokenRequests, { limit: opts.tokenSeriesLimit, now });

  return {
    registry,
    request(route, decision, reason) {
      requestSlot(route, decision, reason).n += 1;
    },
    tokenRequest: (token, result) => tokenSeries.count(token, result),
    authDuration(decision, seconds) {
      authDuration.record(decision, '', seconds);
    },
    upstreamDuration(route, status, seconds) {
      upstreamDuration.record(route, statusClass(status), seconds);
    },
    jwksRefresh(issuer, result, cause, keys) {
      jwksRefreshes.inc({ issuer, result, cause });
      jwksKeys.set({ issuer }, keys);
      if (result === 'ok') jwksLastSuccess.set({ issuer }, now() / 1000);
    },
    cacheHit: () => {
      hits.n += 1;
    },
    cacheMiss: () => {
      misses.n += 1;
    },
    login(kind, result) {
      logins.inc({ kind, result });
    },
    configReload(result) {
      configReloads.inc({ result });
    },
    auditDropped: () => auditDropped.inc(),
    auditWriteError: () => auditWriteErrors.inc(),
    setTokenSeriesLimit: (limit) => tokenSeries.setLimit(limit),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
