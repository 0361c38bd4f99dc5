/**
 * The reverse-proxy terminal: every path that is not one of portcullis' own endpoints. A
 * granted request goes to its route's upstream with the header set the header policy builds;
 * a denied browser request (GET, `Accept: text/html`, a 401 reason, browser login on) is
 * redirected to the login start, other refusals get JSON or an HTML page
 * (http/browser-redirect.ts).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { REASONS } from '../errors.js';
import { sendError } from '../http/respond.js';
import { withoutQueryToken } from '../identity/own-credentials.js';
import { buildUpstreamHeaders } from '../proxy/upstream-headers.js';
import { judge } from './judge.js';
import { elapsedMs, refuseWith, settle } from './settle.js';
import type { Exchange, Granted } from './settle.js';

/** The header set a granted request carries to its upstream. */
export function upstreamHeaders(req: IncomingMessage, x: Exchange, granted: Granted, upgrade: boolean): OutgoingHttpHeaders {
  const { info } = x;
  const headers = buildUpstreamHeaders(req.headers, {
    policy: x.state.headerPolicy,
    identity: granted.outcome === 'allowed' ? granted.identity : undefined,
    forwardToken: granted.route.forwardToken,
    trustForwarded: info.trustedPeer,
    clientIp: info.peerIp,
    proto: info.proto,
    host: info.host,
    requestId: info.requestId,
    upgrade,
  });
  // The upstream serves the host that was judged (with trusted forwarding, X-Forwarded-Host).
  if (info.host !== '') headers.host = info.host;
  return headers;
}

/** The query sent upstream: with `tokens.query`, without the `access_token` parameter. */
export function upstreamQuery(x: Exchange): string {
  return x.state.config.tokens.query ? withoutQueryToken(x.info.query) : x.info.query;
}

export async function proxied(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
  const { x, decision } = await judge(req, res, exchange);
  const { deps, info } = x;
  await settle(x, decision, refuseWith(res, x, req.method, 'proxy'), async (granted) => {
    const route = granted.route;
    if (!route.upstream) return { refuse: 'not_found' };
    const headers = upstreamHeaders(req, x, granted, false);
    const upstreamStart = process.hrtime.bigint();
    const result = await deps.proxy.web(req, res, route, headers, info.path, upstreamQuery(x));
    deps.recorder.metrics.upstreamDuration(route.name, result.status, elapsedMs(upstreamStart) / 1000);
    // The allowed path builds nothing for the failure log.
    if (result.failure === undefined && (!result.code || result.code === 'client_aborted')) return result.status;
    deps.log.upstreamError({ requestId: info.requestId, route: route.name, method: info.method, host: info.host, path: info.path, code: result.code ?? '' });
    if (result.failure === undefined) return result.status;
    sendError(res, result.failure, { requestId: info.requestId });
    return REASONS[result.failure].status;
  });
}
