/**
 * The main listener's request and upgrade handlers: portcullis' own endpoints first
 * (forward-auth, userinfo, login), every other path goes through the decision pipeline to the
 * reverse proxy. One place decides the answer to a denial (browser-redirect.ts: JSON error, HTML
 * page, or a redirect to the login start) and records it once.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RouteConfig } from '../config/types.js';
import type { Reason } from '../errors.js';
import { REASONS } from '../errors.js';
import { decide, decideForRoute } from '../pipeline/decide.js';
import type { Decision } from '../pipeline/decide.js';
import { extractToken } from '../pipeline/extract-token.js';
import { buildUpstreamHeaders, identityHeaders } from '../identity/upstream-headers.js';
import { withoutOwnCookies, withoutQueryToken } from '../identity/own-credentials.js';
import type { RuntimeState } from '../runtime/state.js';
import { recordDecision } from '../runtime/record.js';
import type { Recorder } from '../runtime/record.js';
import type { OpLog } from '../observe/log.js';
import type { Proxy } from '../proxy/proxy.js';
import { deniedAnswer } from '../forward-auth/browser-redirect.js';
import type { Terminal } from '../forward-auth/browser-redirect.js';
import { createSourceFilter, readForwardedRequest } from '../forward-auth/endpoint.js';
import type { Login } from '../login/index.js';
import { parseCookies } from './cookies.js';
import { readRequestInfo } from './request-info.js';
import type { RequestInfo } from './request-info.js';
import { sendError, sendJson, sendSocketError } from './respond.js';

export interface HandlerDeps {
  state(): RuntimeState;
  readonly proxy: Proxy;
  readonly recorder: Recorder;
  readonly log: OpLog;
  /** Login endpoints and the browser session refresh. */
  readonly login?: Login;
  /** True while shutting down: new upgrades are refused. */
  readonly draining?: () => boolean;
  /** Open WebSocket tunnels (client sockets), closed by the sidecar when a drain times out. */
  readonly tunnels?: Set<Duplex>;
}

/** Longest forward-auth cache lifetime; always bounded by the token's own exp. */
const FORWARD_AUTH_MAX_AGE_SEC = 60;

const USERINFO_ROUTE: RouteConfig = Object.freeze({
  name: 'userinfo',
  match: Object.freeze({ host: undefined, path: '/_auth/userinfo', methods: undefined }),
  upstream: undefined,
  auth: 'required',
  require: undefined,
  forwardToken: false,
  stripPrefix: false,
  timeoutMs: 0,
});

/** The header set an allowed (or public) request carries to its upstream. */
function upstreamHeaders(
  req: IncomingMessage,
  info: RequestInfo,
  state: RuntimeState,
  decision: Exclude<Decision, { outcome: 'denied' }>,
  upgrade: boolean,
): OutgoingHttpHeaders {
  const headers = buildUpstreamHeaders(req.headers, {
    identity: decision.outcome === 'allowed' ? decision.identity : undefined,
    forwardToken: decision.route.forwardToken,
    cookieName: state.config.login?.cookie.name ?? state.config.tokens.cookie,
    stripHeaders: state.config.stripHeaders,
    clientIp: info.peerIp,
    proto: info.proto,
    host: info.host,
    trustForwarded: info.trustedPeer,
    requestId: info.requestId,
    upgrade,
  });
  // The upstream serves the host that was judged (with trusted forwarding, X-Forwarded-Host).
  if (info.host !== '') headers.host = info.host;
  return headers;
}

/** A denial decided before any route was matched. */
function refused(reason: Reason): Decision {
  return { outcome: 'denied', route: undefined, reason };
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function createHandlers(deps: HandlerDeps): {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
} {
  let sourceFilterFor: readonly string[] | undefined;
  let sourceFilter: (ip: string) => boolean = () => true;
  function trustedSource(state: RuntimeState, ip: string): boolean {
    if (sourceFilterFor !== state.config.forwardAuth.trustedSources) {
      sourceFilterFor = state.config.forwardAuth.trustedSources;
      sourceFilter = createSourceFilter(sourceFilterFor);
    }
    return sourceFilter(ip);
  }

  function record(state: RuntimeState, info: RequestInfo, decision: Decision, status: number, start: bigint, authMs: number): void {
    if (decision.outcome === 'denied' && decision.reason === 'internal_error') {
      deps.log.pluginError({ authenticator: decision.detail ?? 'unknown', code: 'ERR_AUTHENTICATOR' });
    }
    recordDecision(deps.recorder, state.config.audit.allowed, info, decision, status, authMs / 1000, elapsedMs(start));
  }

  function deny(res: ServerResponse, state: RuntimeState, info: RequestInfo, reason: Reason, terminal: Terminal | undefined, allow?: readonly string[]): number {
    const answer = deniedAnswer(info, state.config, reason, terminal);
    if ('location' in answer) {
      res.writeHead(302, { location: answer.location, 'x-request-id': info.requestId, 'cache-control': 'no-store' });
      res.end();
      return 302;
    }
    const headers = { ...(allow ? { allow: allow.join(', ') } : {}), ...(answer.login ? { 'x-auth-request-redirect': answer.login } : {}) };
    const extra = { extraHeaders: headers, ...(answer.html ? { html: answer.html } : {}) };
    sendError(res, reason, { requestId: info.requestId, head: info.method === 'HEAD', ...extra });
    return REASONS[reason].status;
  }

  /**
   * A browser whose access cookie expired (or is gone) but holds a refresh cookie is renewed
   * at the IdP once, and the request is judged again with the new token. Only on the denial
   * path, so allowed requests pay nothing for it.
   */
  async function decideWithRefresh(req: IncomingMessage, res: ServerResponse, info: RequestInfo, state: RuntimeState, route?: RouteConfig): Promise<{ info: RequestInfo; decision: Decision }> {
    const run = (i: RequestInfo): Promise<Decision> => (route ? decideForRoute(i, state, route) : decide(i, state));
    const decision = await run(info);
    const cookieName = state.config.tokens.cookie;
    if (
      decision.outcome !== 'denied' ||
      (decision.reason !== 'expired' && decision.reason !== 'missing_token') ||
      !deps.login ||
      !state.config.login?.browser ||
      cookieName === false ||
      req.headers.authorization !== undefined ||
      !parseCookies(req.headers.cookie).has(`${cookieName}_refresh`)
    ) {
      return { info, decision };
    }
    const token = await deps.login.refresh(req, res, info, state);
    if (token === undefined) return { info, decision };
    // The old cookie and its chunks go, or the new token would be joined with a stale tail.
    const others = withoutOwnCookies(req.headers.cookie ?? '', cookieName);
    req.headers.cookie = others ? `${others}; ${cookieName}=${token}` : `${cookieName}=${token}`;
    const renewed = { ...info, headers: req.headers };
    return { info: renewed, decision: await run(renewed) };
  }

  async function forwardAuth(req: IncomingMessage, res: ServerResponse, base: RequestInfo, state: RuntimeState, start: bigint): Promise<void> {
    // The caller is the TCP peer, never what X-Forwarded-For claims.
    if (!trustedSource(state, base.peerIp)) {
      sendError(res, 'forbidden_source', { requestId: base.requestId });
      record(state, base, refused('forbidden_source'), REASONS.forbidden_source.status, start, elapsedMs(start));
      return;
    }
    const forwarded = readForwardedRequest(req, base);
    if (!forwarded.ok) {
      sendError(res, forwarded.reason, { requestId: base.requestId });
      record(state, base, refused(forwarded.reason), REASONS[forwarded.reason].status, start, elapsedMs(start));
      return;
    }
    const info = forwarded.info;
    const decision = await decide(info, state);
    const authMs = elapsedMs(start);
    if (decision.outcome === 'denied') {
      const status = deny(res, state, info, decision.reason, 'forward_auth', decision.allow);
      record(state, info, decision, status, start, authMs);
      return;
    }
    const headers: Record<string, string> = { 'x-request-id': info.requestId, 'content-length': '0' };
    if (decision.outcome === 'allowed' && decision.identity) {
      Object.assign(
        headers,
        identityHeaders(decision.identity, { forwardToken: decision.route.forwardToken, tokenHeader: 'x-auth-request-access-token' }),
      );
      const exp = decision.identity.exp;
      const ttl = exp === undefined ? FORWARD_AUTH_MAX_AGE_SEC : Math.min(FORWARD_AUTH_MAX_AGE_SEC, Math.floor(exp - Date.now() / 1000));
      headers['cache-control'] = ttl > 0 ? `private, max-age=${ttl}` : 'no-store';
    } else {
      headers['cache-control'] = decision.outcome === 'public' ? 'private, max-age=60' : 'no-store';
    }
    res.writeHead(200, headers);
    res.end();
    record(state, info, decision, 200, start, authMs);
  }

  async function userinfo(req: IncomingMessage, res: ServerResponse, info: RequestInfo, state: RuntimeState, start: bigint): Promise<void> {
    const { info: judged, decision } = await decideWithRefresh(req, res, info, state, USERINFO_ROUTE);
    const authMs = elapsedMs(start);
    if (decision.outcome === 'denied') {
      sendError(res, decision.reason, { requestId: info.requestId });
      record(state, judged, decision, REASONS[decision.reason].status, start, authMs);
      return;
    }
    const id = decision.outcome === 'allowed' ? decision.identity : undefined;
    if (!id) {
      sendError(res, 'missing_token', { requestId: info.requestId });
      record(state, judged, refused('missing_token'), REASONS.missing_token.status, start, authMs);
      return;
    }
    sendJson(
      res,
      200,
      { user: id.user, email: id.email ?? null, username: id.username ?? null, groups: id.groups, roles: id.roles, issuer: id.issuer ?? null, exp: id.exp ?? null },
      info.requestId,
    );
    record(state, judged, decision, 200, start, authMs);
  }


  async function proxied(req: IncomingMessage, res: ServerResponse, original: RequestInfo, state: RuntimeState, start: bigint): Promise<void> {
    const { info, decision } = await decideWithRefresh(req, res, original, state);
    const authMs = elapsedMs(start);
    if (decision.outcome === 'denied') {
      const status = deny(res, state, info, decision.reason, 'proxy', decision.allow);
      record(state, info, decision, status, start, authMs);
      return;
    }
    const route = decision.route;
    if (!route.upstream) {
      const status = deny(res, state, info, 'not_found', undefined);
      record(state, info, decision, status, start, authMs);
      return;
    }
    const headers = upstreamHeaders(req, info, state, decision, false);
    const upstreamStart = process.hrtime.bigint();
    const query = state.config.tokens.query ? withoutQueryToken(info.query) : info.query;
    const result = await deps.proxy.web(req, res, route, headers, info.path, query);
    deps.recorder.metrics.upstreamDuration(route.name, result.status, elapsedMs(upstreamStart) / 1000);
    let status = result.status;
    if (result.failure) {
      deps.log.upstreamError({ requestId: info.requestId, route: route.name, method: info.method, host: info.host, path: info.path, code: result.code ?? '' });
      sendError(res, result.failure, { requestId: info.requestId });
      status = REASONS[result.failure].status;
    } else if (result.code && result.code !== 'client_aborted') {
      deps.log.upstreamError({ requestId: info.requestId, route: route.name, method: info.method, host: info.host, path: info.path, code: result.code });
    }
    record(state, info, decision, status, start, authMs);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = process.hrtime.bigint();
    const state = deps.state();
    const read = readRequestInfo(req, state.config);
    const info = read.info;
    res.setHeader('x-request-id', info.requestId);
    if (!read.ok) {
      sendError(res, read.reason, { requestId: info.requestId });
      record(state, info, refused(read.reason), REASONS[read.reason].status, start, elapsedMs(start));
      return;
    }
    if (info.path === state.config.forwardAuth.path) return forwardAuth(req, res, info, state, start);
    if (info.path === '/_auth/userinfo') {
      if (info.method !== 'GET' && info.method !== 'HEAD') {
        sendError(res, 'method_not_allowed', { requestId: info.requestId, extraHeaders: { allow: 'GET, HEAD' } });
        return;
      }
      return userinfo(req, res, info, state, start);
    }
    if (deps.login && state.config.login && (await deps.login.route(req, res, info, state))) return;
    return proxied(req, res, info, state, start);
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const start = process.hrtime.bigint();
    const state = deps.state();
    const read = readRequestInfo(req, state.config);
    const info = read.info;
    const refuse = (reason: Reason, decision: Decision = refused(reason)): void => {
      sendSocketError(socket, reason, { requestId: info.requestId });
      record(state, info, decision, REASONS[reason].status, start, elapsedMs(start));
    };
    if (!read.ok) return refuse(read.reason);
    if (deps.draining?.()) return refuse('shutting_down');
    // Only a WebSocket handshake (a GET, RFC 6455) is proxied: the upstream always receives a
    // GET, so judging any other method would judge a different request. h2c is refused.
    const protocol = String(req.headers.upgrade ?? '').toLowerCase();
    if (protocol !== 'websocket' || info.method !== 'GET') return refuse('invalid_request');

    // A cookie-authenticated upgrade from a foreign page is cross-site WebSocket hijacking.
    const extracted = extractToken(req.headers, info.query, state.config.tokens);
    const origin = req.headers.origin;
    if (extracted.kind === 'token' && extracted.source === 'cookie' && origin !== undefined && !sameOrigin(origin, info, state)) {
      return refuse('forbidden_origin');
    }

    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    const decision = await decide(info, state);
    const authMs = elapsedMs(start);
    if (decision.outcome === 'denied' || !decision.route.upstream) {
      return refuse(decision.outcome === 'denied' ? decision.reason : 'not_found', decision);
    }
    if (controller.signal.aborted) return;
    const route = decision.route;
    const headers = upstreamHeaders(req, info, state, decision, true);
    try {
      const query = state.config.tokens.query ? withoutQueryToken(info.query) : info.query;
      const upstream = await deps.proxy.upgrade(route, headers, info.path, query, controller.signal);
      const lines = ['HTTP/1.1 101 Switching Protocols', `x-request-id: ${info.requestId}`];
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (name === 'x-request-id') continue;
        for (const v of Array.isArray(value) ? value : [value ?? '']) lines.push(`${name}: ${v}`);
      }
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.socket.write(head);
      // Either side going away takes the other with it: no half-open tunnels.
      upstream.socket.on('error', () => socket.destroy());
      socket.on('error', () => upstream.socket.destroy());
      upstream.socket.once('close', () => socket.destroy());
      socket.once('close', () => upstream.socket.destroy());
      deps.tunnels?.add(socket);
      socket.once('close', () => deps.tunnels?.delete(socket));
      upstream.socket.pipe(socket).pipe(upstream.socket);
      record(state, info, decision, 101, start, authMs);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERR_UPGRADE';
      if (controller.signal.aborted && code !== 'UND_ERR_HEADERS_TIMEOUT') return;
      deps.log.upstreamError({ requestId: info.requestId, route: route.name, method: info.method, host: info.host, path: info.path, code });
      const reason = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED' ? 'upstream_timeout' : 'upstream_unavailable';
      sendSocketError(socket, reason, { requestId: info.requestId });
      record(state, info, decision, REASONS[reason].status, start, authMs);
    }
  }


  return {
    onRequest(req, res) {
      handle(req, res).catch((err: unknown) => {
        const requestId = String(res.getHeader('x-request-id') ?? '');
        const code = (err as { code?: string } | null)?.code ?? 'ERR_INTERNAL';
        deps.log.requestFailed({ requestId, method: req.method ?? '', path: req.url ?? '', code });
        sendError(res, 'internal_error', { requestId });
      });
    },
    onUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      upgrade(req, socket, head).catch(() => sendSocketError(socket, 'internal_error', { requestId: '' }));
    },
  };
}

function sameOrigin(origin: string, info: RequestInfo, state: RuntimeState): boolean {
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  if (host === info.host.toLowerCase()) return true;
  const publicUrl = state.config.publicUrl;
  return publicUrl !== undefined && new URL(publicUrl).host.toLowerCase() === host;
}
