/**
 * The upstream client: forwards an allowed request to its route's upstream with undici
 * (keep-alive pools; why not http-proxy: docs/architecture.md) and WebSocket upgrades through
 * undici's upgrade API.
 *
 * - The outgoing header set is built by portcullis beforehand (upstream-headers.ts); nothing
 *   of the client's reaches the upstream unfiltered.
 * - The upstream receives the normalised path that was judged (optionally without the route
 *   prefix), with the original query string.
 * - Each route has its own connection pool per upstream origin, bounded by the route's
 *   `upstream_connections`: one route's slow clients fill only their own route's budget and
 *   never starve another route's requests to the same upstream.
 * - The route timeout runs from the moment the request is dispatched, so waiting for a free
 *   pooled connection counts (undici's own `headersTimeout` only starts once the request is
 *   written on a connection): no response headers within it is 504 `upstream_timeout`, never a
 *   hang; it is also the longest pause allowed in the upstream's response body. A refused or
 *   reset connection before the response is 502 `upstream_unavailable`; a failure after the
 *   response started closes the client's connection.
 * - A client request body that stalls past `client_body_timeout` (client-body.ts) aborts the
 *   upstream request, freeing its connection, and is answered 408 `request_timeout` on a
 *   connection that is then closed.
 * - A client that goes away aborts the upstream request (no leaked upstream sockets).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { DEFAULT_UPSTREAM_CONNECTIONS } from '../config/schema.js';
import type { RouteConfig } from '../config/types.js';
import type { Reason } from '../errors.js';
import { onClientBodyStall } from './client-body.js';
import { connectionTokens, isHopByHop, normalizeHeaderName } from './hop-by-hop.js';

export interface ProxyResult {
  /** Upstream status, or 0 when no response arrived. */
  readonly status: number;
  /** Set when portcullis must answer itself (nothing was sent yet). */
  readonly failure?: Extract<Reason, 'upstream_unavailable' | 'upstream_timeout' | 'request_timeout'>;
  /** Error code for the operational log. */
  readonly code?: string;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function responseHeaders(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionTokens(headers.connection);
  for (const [name, value] of Object.entries(headers)) {
    // x-request-id stays portcullis' own (set before the answer), whatever the upstream says.
    if (value === undefined || isHopByHop(normalizeHeaderName(name), named) || name === 'x-request-id') continue;
    out[name] = value;
  }
  return out;
}

/** Path sent upstream: upstream base path + (route prefix stripped?) judged path + query. */
export function upstreamPath(route: RouteConfig, base: string, path: string, query: string): string {
  let rest = path;
  if (route.stripPrefix && route.match.path !== '/') {
    rest = path.slice(route.match.path.length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  const prefix = base === '/' ? '' : base.replace(/\/$/, '');
  return `${prefix}${rest}${query}`;
}

/** Why portcullis itself aborted an upstream exchange (the abort signal's reason). */
const ROUTE_TIMEOUT = Symbol('route timeout');
const BODY_STALLED = Symbol('client body stalled');

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERR_UPSTREAM';
}

export interface Proxy {
  web(
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteConfig,
    headers: OutgoingHttpHeaders,
    path: string,
    query: string,
  ): Promise<ProxyResult>;
  /** Resolves the upstream's upgrade answer; the caller wires the sockets. */
  upgrade(
    route: RouteConfig,
    headers: OutgoingHttpHeaders,
    path: string,
    query: string,
    signal: AbortSignal,
  ): Promise<{ headers: IncomingMessage['headers']; socket: Duplex }>;
  close(): Promise<void>;
}

export function createProxy(): Proxy {
  /** One pool per route and upstream origin; a reload with the same route reuses it. */
  const pools = new Map<string, Pool>();
  const targets = new Map<string, { origin: string; base: string }>();

  function target(upstream: string): { origin: string; base: string } {
    let t = targets.get(upstream);
    if (!t) {
      const url = new URL(upstream);
      t = { origin: url.origin, base: url.pathname || '/' };
      targets.set(upstream, t);
    }
    return t;
  }

  function pool(route: RouteConfig, origin: string): Pool {
    const connections = route.upstreamConnections ?? DEFAULT_UPSTREAM_CONNECTIONS;
    const key = `${route.name}\n${origin}\n${connections}`;
    let p = pools.get(key);
    if (!p) {
      p = new Pool(origin, { connections, keepAliveTimeout: 4_000, pipelining: 1 });
      pools.set(key, p);
    }
    return p;
  }

  return {
    web(req, res, route, headers, path, query) {
      const { origin, base } = target(route.upstream ?? '');
      const hasBody =
        req.headers['content-length'] !== undefined
          ? req.headers['content-length'] !== '0'
          : req.headers['transfer-encoding'] !== undefined;
      // undici frames the streamed body itself and refuses a transfer-encoding header.
      delete headers['transfer-encoding'];
      const controller = new AbortController();
      const onClose = (): void => {
        if (!res.writableFinished) controller.abort();
      };
      res.once('close', onClose);
      const release = onClientBodyStall(req, () => controller.abort(BODY_STALLED));
      // Started at dispatch: a request queued for a free pooled connection is timed too.
      const timer = setTimeout(() => controller.abort(ROUTE_TIMEOUT), route.timeoutMs);
      let status = 0;
      return new Promise<ProxyResult>((resolve) => {
        pool(route, origin).stream(
          {
            path: upstreamPath(route, base, path, query),
            method: req.method ?? 'GET',
            headers: headers as Record<string, string | string[]>,
            body: hasBody ? req : null,
            headersTimeout: route.timeoutMs,
            bodyTimeout: route.timeoutMs,
            signal: controller.signal,
          },
          ({ statusCode, headers: upstreamHeaders }) => {
            clearTimeout(timer);
            status = statusCode;
            const out = responseHeaders(upstreamHeaders);
            // Cookies portcullis set already (a session refresh) are kept beside the upstream's.
            const own = res.getHeader('set-cookie');
            if (own !== undefined) out['set-cookie'] = [...[own].flat().map(String), ...[out['set-cookie'] ?? []].flat().map(String)];
            res.writeHead(statusCode, out);
            return res;
          },
          (err) => {
            clearTimeout(timer);
            release();
            res.off('close', onClose);
            if (!err) return resolve({ status });
            const reason: unknown = controller.signal.reason;
            const code = reason === ROUTE_TIMEOUT ? 'UND_ERR_HEADERS_TIMEOUT' : reason === BODY_STALLED ? 'client_body_timeout' : errorCode(err);
            if (controller.signal.aborted && reason !== ROUTE_TIMEOUT && reason !== BODY_STALLED) return resolve({ status, code: 'client_aborted' });
            if (status !== 0 || res.headersSent) {
              res.destroy();
              return resolve({ status, code });
            }
            if (reason === BODY_STALLED) return resolve({ status: 0, failure: 'request_timeout', code });
            const failure = TIMEOUT_CODES.has(code) ? 'upstream_timeout' : 'upstream_unavailable';
            return resolve({ status: 0, failure, code });
          },
        );
      });
    },

    async upgrade(route, headers, path, query, signal) {
      const { origin, base } = target(route.upstream ?? '');
      // undici sets `connection: upgrade` and `upgrade: websocket` itself and refuses copies.
      const { connection: _connection, upgrade: _upgrade, ...rest } = headers;
      const data = await pool(route, origin).upgrade({
        path: upstreamPath(route, base, path, query),
        method: 'GET',
        headers: rest as Record<string, string | string[]>,
        protocol: 'websocket',
        // The route timeout bounds the wait for the upstream's 101, as for plain requests.
        signal: AbortSignal.any([signal, AbortSignal.timeout(route.timeoutMs)]),
      } satisfies Dispatcher.UpgradeOptions);
      return { headers: data.headers, socket: data.socket };
    },

    async close() {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}
