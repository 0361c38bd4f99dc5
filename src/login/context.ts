/**
 * What every login endpoint shares: the dependencies, the per-`RuntimeState` cache (IdP
 * metadata, cookie sealer) and the one place that records a login outcome.
 *
 * Enforces: IdP metadata is fetched once per runtime state (single flight; a failure is not
 * cached, so the next login retries, and a reload starts afresh with the new config); each
 * outcome is counted once in `portcullis_logins_total` and written once to the audit log with
 * the whitelisted request fields only (never the query string, a token, a password, a code or
 * a state value); IdP failures that an operator must fix reach the operational log as a fixed
 * code.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { IssuerConfig, LoginConfig } from '../config/types.js';
import type { Reason } from '../errors.js';
import type { RequestInfo } from '../http/request-info.js';
import { browserLinks } from '../http/html-error.js';
import { sendError } from '../http/respond.js';
import type { OpLog } from '../observe/log.js';
import type { Recorder } from '../observe/record.js';
import type { RuntimeState } from '../state/runtime-state.js';
import { fetchMetadata } from './idp-client.js';
import type { MetadataResult } from './idp-client.js';
import type { LoginThrottle } from './rate-limit.js';
import { createSealer } from './seal.js';
import type { Sealer } from './seal.js';

export interface LoginDeps {
  readonly recorder: Recorder;
  readonly log: OpLog;
  readonly now?: () => number;
  readonly dispatcher?: Dispatcher;
  /** The failed-login counter to ask; a process-local one when absent (no cluster). */
  readonly throttle?: LoginThrottle;
}

export type LoginKind = 'password' | 'browser';

/** One login endpoint call's view of the configuration and the shared helpers. */
export interface LoginEnv {
  readonly state: RuntimeState;
  readonly login: LoginConfig;
  readonly issuer: IssuerConfig;
  readonly deps: LoginDeps;
  readonly now: () => number;
  readonly throttle: LoginThrottle;
  metadata(): Promise<MetadataResult>;
  /** Undefined when no cookie_secret is configured. */
  sealer(): Sealer | undefined;
}

interface StateCache {
  meta?: Promise<MetadataResult>;
  sealer?: Sealer;
}

export interface Outcome {
  readonly kind: LoginKind;
  readonly event?: 'login' | 'logout';
  /** Metric `result` label: a fixed word. */
  readonly result: string;
  readonly reason?: Reason;
  readonly user?: string;
  readonly token?: string;
  readonly status: number;
}

export function createEnvFactory(deps: LoginDeps, throttle: LoginThrottle): (state: RuntimeState) => LoginEnv | undefined {
  const caches = new WeakMap<RuntimeState, StateCache>();
  const now = deps.now ?? Date.now;
  return (state) => {
    const login = state.config.login;
    const issuer = login && state.config.issuers.find((i) => i.name === login.issuer);
    if (login === undefined || issuer === undefined) return undefined;
    let cache = caches.get(state);
    if (cache === undefined) {
      cache = {};
      caches.set(state, cache);
    }
    const own = cache;
    return {
      state,
      login,
      issuer,
      deps,
      now,
      throttle,
      metadata() {
        const pending = (own.meta ??= fetchMetadata(issuer.issuer, issuer.jwks.timeoutMs, issuer.allowHttp, deps.dispatcher));
        void pending.then((r) => {
          if (!r.ok && own.meta === pending) delete own.meta;
        });
        return pending;
      },
      sealer() {
        if (login.cookieSecret === undefined) return undefined;
        own.sealer ??= createSealer(login.cookieSecret, now);
        return own.sealer;
      },
    };
  };
}

/** Counts (logins only) and audits one outcome. */
export function recordOutcome(env: LoginEnv, info: RequestInfo, o: Outcome): void {
  if (o.event !== 'logout') env.deps.recorder.metrics.login(o.kind, o.result);
  env.deps.recorder.audit.write({
    event: o.event ?? 'login',
    kind: o.kind,
    request_id: info.requestId,
    decision: o.status < 400 ? 'allowed' : 'denied',
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    method: info.method,
    host: info.host,
    path: info.path,
    client_ip: info.clientIp,
    ...(o.user === undefined ? {} : { user: o.user, issuer: env.issuer.issuer ?? env.issuer.name }),
    ...(o.token === undefined ? {} : { token: o.token }),
    status: o.status,
  });
}

/** Reasons where signing in again is no way forward. */
const NO_LOGIN_LINK: ReadonlySet<Reason> = new Set(['forbidden_origin', 'method_not_allowed', 'rate_limited']);

/**
 * Answers an error, counts and audits it. A browser (Accept prefers HTML) on a browser-login
 * endpoint gets the HTML page with a "log in again" link (to the start with `rd` when given).
 */
export function refuse(
  res: ServerResponse,
  env: LoginEnv,
  info: RequestInfo,
  kind: LoginKind,
  result: string,
  reason: Reason,
  extra: { retryAfterSec?: number; headers?: Record<string, string>; rd?: string } = {},
): void {
  const html = browserLinks(info.headers.accept, env.login.browser, {
    login: kind === 'browser' && !NO_LOGIN_LINK.has(reason),
    ...(extra.rd === undefined ? {} : { rd: extra.rd }),
  });
  sendError(res, reason, {
    requestId: info.requestId,
    ...(html === undefined ? {} : { html }),
    ...(extra.retryAfterSec === undefined ? {} : { retryAfterSec: extra.retryAfterSec }),
    ...(extra.headers === undefined ? {} : { extraHeaders: extra.headers }),
  });
  recordOutcome(env, info, { kind, result, reason, status: res.statusCode });
}

/** The operational line for an IdP answer or document an operator has to look at. */
export function logIdpProblem(env: LoginEnv, info: RequestInfo, code: string): void {
  env.deps.log.requestFailed({ requestId: info.requestId, method: info.method, path: info.path, code: `idp_${code}` });
}
