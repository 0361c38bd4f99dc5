/**
 * Records one access decision, once, after the terminal has chosen the status: the request
 * counter, the per-token counter, the verified-token cache counters, the decision latency and
 * the audit line (docs/operations.md). Labels come only from route names, the fixed reason set and
 * verified tokens.
 */
import type { Decision } from '../pipeline/decide.js';
import type { RequestInfo } from '../http/request-info.js';
import type { AuditSink } from './audit.js';
import type { Metrics } from './metrics.js';

export interface Recorder {
  readonly metrics: Metrics;
  readonly audit: AuditSink;
}

export function recordDecision(
  rec: Recorder,
  auditAllowed: boolean,
  info: RequestInfo,
  decision: Decision,
  status: number,
  authSeconds: number,
  totalMs: number,
): void {
  const routeName = decision.route?.name ?? 'none';
  const reason = decision.outcome === 'denied' ? decision.reason : '';
  rec.metrics.request(routeName, decision.outcome, reason);
  rec.metrics.authDuration(decision.outcome, authSeconds);

  const token = decision.outcome === 'public' ? undefined : decision.token;
  const identity = decision.outcome === 'public' ? undefined : decision.identity;
  if (token) {
    if (token.subject !== undefined) {
      rec.metrics.tokenRequest({ fingerprint: token.fingerprint, subject: token.subject, exp: identity?.exp }, 'valid');
    } else {
      rec.metrics.tokenRequest(undefined, 'invalid');
    }
    if (token.cached === true) rec.metrics.cacheHit();
    else rec.metrics.cacheMiss();
  }

  if (decision.outcome === 'denied' || auditAllowed) {
    // One object of a fixed shape; absent fields are undefined (written as null).
    rec.audit.write({
      event: 'access',
      request_id: info.requestId,
      decision: decision.outcome,
      reason: reason === '' ? undefined : reason,
      route: routeName,
      method: info.method,
      host: info.host,
      path: info.path,
      client_ip: info.clientIp,
      user: identity?.user,
      username: identity?.username,
      issuer: (token?.issuer ?? identity?.issuer) || undefined,
      token: token?.fingerprint,
      jti: token?.jti || undefined,
      status,
      duration_ms: Math.round(totalMs * 1000) / 1000,
      requirement: decision.outcome === 'denied' ? decision.requirement : undefined,
    });
  }
}
