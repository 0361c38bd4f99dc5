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
 *   hang; it is also the longest pause allowed in the upstream's response body. A request
 *   ended while it still waits for a connection (timeout, stalled body, client gone) is
 *   answered at once and withdrawn, never sent. A refused or
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
import { responseHeaders } from './response-headers.js';

export interface ProxyResult {
  /** Upstream status, or 0 when no response arrived. */
  readonly status: number;
  /** Set when portcullis must answer itself (nothing was sent yet). */
  readonly failure?: Extract<Reason, 'upstream_unavailable' | 'upstream_timeout' | 'request_timeout'>;
  /** Error code for the operational log. */
  readonly code?: string;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Where a route's requests go: its pool, and the upstream's base path without a trailing `/`. */
interface Target {
  readonly pool: Pool;
  readonly prefix: string;
}

/** Path sent upstream: upstream base path + (route prefix stripped?) judged path + query. */
function upstreamPath(route: RouteConfig, prefix: string, path: string, query: string): string {
  let rest = path;
  if (route.stripPrefix && route.match.path !== '/') {
    rest = path.slice(route.match.path.length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  return `${prefix}${rest}${query}`;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERR_UPSTREAM';
}

/** Why portcullis itself ended an upstream exchange. */
type Ending = 'route_timeout' | 'body_stalled' | 'client_gone';

function routeTimeout(exchange: UpstreamExchange): void {
  exchange.end('route_timeout');
}

/**
 * One request to an upstream, as a handler of undici's dispatcher (the protocol its own
 * `stream()` speaks): the response is written straight to the client's `res`, and portcullis
 * ends the exchange through the `abort` undici hands `onConnect` — no AbortController, no
 * signal listener. A request still waiting for a pooled connection when it is ended is
 * settled at once and aborted when undici reaches it, so it is never sent.
 */
class UpstreamExchange {
  private abortUpstream: (() => void) | undefined;
  private ending: Ending | undefined;
  private status = 0;
  private done = false;
  private draining = false;
  private resume: (() => void) | undefined;
  private release: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly settle: (result: ProxyResult) => void,
    timeoutMs: number,
  ) {
    // Started at dispatch: a request queued for a free pooled connection is timed too.
    this.timer = setTimeout(routeTimeout, timeoutMs, this);
    // A client that goes away aborts the upstream request (no leaked upstream sockets).
    res.on('close', () => {
      if (!this.done && !res.writableFinished) this.end('client_gone');
    });
  }

  /** A stalled client body ends the exchange (client-body.ts). */
  watchBody(req: IncomingMessage): void {
    this.release = onClientBodyStall(req, () => this.end('body_stalled'));
  }

  end(ending: Ending): void {
    if (this.done || this.ending !== undefined) return;
    this.ending = ending;
    if (this.abortUpstream) this.abortUpstream();
    else this.onError(undefined);
  }

  private finish(result: ProxyResult): void {
    this.done = true;
    clearTimeout(this.timer);
    this.release?.();
    this.settle(result);
  }

  onConnect(abort: () => void): void {
    if (this.ending !== undefined) return abort();
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx informational answers are not passed on (as undici's stream() did).
    if (statusCode < 200) return true;
    clearTimeout(this.timer);
    this.status = statusCode;
    this.resume = resume;
    const out = responseHeaders(raw);
    // Cookies portcullis set already (a session refresh) are kept beside the upstream's.
    const upstreamCookies = out['set-cookie'];
    const own = upstreamCookies === undefined ? undefined : this.res.getHeader('set-cookie');
    if (own !== undefined) out['set-cookie'] = [...[own].flat().map(String), ...[upstreamCookies ?? []].flat().map(String)];
    this.res.writeHead(statusCode, out);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    if (!this.draining && this.resume) {
      this.draining = true;
      this.res.on('drain', this.resume);
    }
    return false;
  }

  onComplete(): void {
    if (this.done) return;
    this.res.end();
    this.finish({ status: this.status });
  }

  onError(err: unknown): void {
    if (this.done) return;
    const { ending, status, res } = this;
    if (ending === 'client_gone') return this.finish({ status, code: 'client_aborted' });
    const code = ending === 'route_timeout' ? 'UND_ERR_HEADERS_TIMEOUT' : ending === 'body_stalled' ? 'client_body_timeout' : errorCode(err);
    if (status !== 0 || res.headersSent) {
      res.destroy();
      return this.finish({ status, code });
    }
    if (ending === 'body_stalled') return this.finish({ status: 0, failure: 'request_timeout', code });
    this.finish({ status: 0, failure: TIMEOUT_CODES.has(code) ? 'upstream_timeout' : 'upstream_unavailable', code });
  }
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
  /** Per route object (one per compiled config): its pool and path prefix, found once. */
  const targets = new WeakMap<RouteConfig, Target>();

  function target(route: RouteConfig): Target {
    let t = targets.get(route);
    if (!t) {
      const url = new URL(route.upstream ?? '');
      const connections = route.upstreamConnections ?? DEFAULT_UPSTREAM_CONNECTIONS;
      const key = `${route.name}\n${url.origin}\n${connections}`;
      let pool = pools.get(key);
      if (!pool) {
        pool = new Pool(url.origin, { connections, keepAliveTimeout: 4_000, pipelining: 1 });
        pools.set(key, pool);
      }
      const base = url.pathname || '/';
      t = { pool, prefix: base === '/' ? '' : base.replace(/\/$/, '') };
      targets.set(route, t);
    }
    return t;
  }

  return {
    web(req, res, route, headers, path, query) {
      const { pool, prefix } = target(route);
      const hasBody =
        req.headers['content-length'] !== undefined
          ? req.headers['content-length'] !== '0'
          : req.headers['transfer-encoding'] !== undefined;
      // undici frames the streamed body itself and refuses a transfer-encoding header.
      if (headers['transfer-encoding'] !== undefined) delete headers['transfer-encoding'];
      return new Promise<ProxyResult>((resolve) => {
        const exchange = new UpstreamExchange(res, resolve, route.timeoutMs);
        if (hasBody) exchange.watchBody(req);
        pool.dispatch(
          {
            path: upstreamPath(route, prefix, path, query),
            method: (req.method ?? 'GET'),
            headers: headers as Record<string, string | string[]>,
            body: hasBody ? req : null,
            headersTimeout: route.timeoutMs,
            bodyTimeout: route.timeoutMs,
          },
          exchange,
        );
      });
    },

    async upgrade(route, headers, path, query, signal) {
      const { pool, prefix } = target(route);
      // undici sets `connection: upgrade` and `upgrade: websocket` itself and refuses copies.
      const { connection: _connection, upgrade: _upgrade, ...rest } = headers;
      const data = await pool.upgrade({
        path: upstreamPath(route, prefix, path, query),
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
