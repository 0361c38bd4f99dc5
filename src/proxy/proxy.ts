/**
 * The upstream client: forwards an allowed request to its route's upstream with undici
 * (keep-alive pools; why not http-proxy: docs/architecture.md) and WebSocket upgrades through
 * undici's upgrade API.
 *
 * - The outgoing header set is built by portcullis beforehand (upstream-headers.ts); nothing
 *   of the client's reaches the upstream unfiltered.
 * - The upstream receives the normalised path that was judged (optionally without the route
 *   prefix), with the original query string.
 * - The route timeout bounds the wait for the upstream's response headers: 504
 *   `upstream_timeout`; a refused or reset connection before the response is 502
 *   `upstream_unavailable`; a failure after the response started closes the connection.
 * - A client that goes away aborts the upstream request (no leaked upstream sockets).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type { RouteConfig } from '../config/types.js';
import type { Reason } from '../errors.js';
import { connectionTokens, isHopByHop, normalizeHeaderName } from './hop-by-hop.js';

export interface ProxyResult {
  /** Upstream status, or 0 when no response arrived. */
  readonly status: number;
  /** Set when portcullis must answer itself (nothing was sent yet). */
  readonly failure?: Extract<Reason, 'upstream_unavailable' | 'upstream_timeout'>;
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

export function createProxy(opts: { connections?: number } = {}): Proxy {
  const agent = new Agent({ connections: opts.connections ?? 256, keepAliveTimeout: 4_000, pipelining: 1 });
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
      let status = 0;
      return new Promise<ProxyResult>((resolve) => {
        agent.stream(
          {
            origin,
            path: upstreamPath(route, base, path, query),
            method: req.method ?? 'GET',
            headers: headers as Record<string, string | string[]>,
            body: hasBody ? req : null,
            headersTimeout: route.timeoutMs,
            bodyTimeout: route.timeoutMs,
            signal: controller.signal,
          },
          ({ statusCode, headers: upstreamHeaders }) => {
            status = statusCode;
            const out = responseHeaders(upstreamHeaders);
            // Cookies portcullis set already (a session refresh) are kept beside the upstream's.
            const own = res.getHeader('set-cookie');
            if (own !== undefined) out['set-cookie'] = [...[own].flat().map(String), ...[out['set-cookie'] ?? []].flat().map(String)];
            res.writeHead(statusCode, out);
            return res;
          },
          (err) => {
            res.off('close', onClose);
            if (!err) return resolve({ status });
            const code = errorCode(err);
            if (controller.signal.aborted) return resolve({ status, code: 'client_aborted' });
            if (status !== 0 || res.headersSent) {
              res.destroy();
              return resolve({ status, code });
            }
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
      const data = await agent.upgrade({
        origin,
        path: upstreamPath(route, base, path, query),
        method: 'GET',
        headers: rest as Record<string, string | string[]>,
        protocol: 'websocket',
        // The route timeout bounds the wait for the upstream's 101, as for plain requests.
        signal: AbortSignal.any([signal, AbortSignal.timeout(route.timeoutMs)]),
      } as Dispatcher.UpgradeOptions & { origin: string });
      return { headers: data.headers, socket: data.socket };
    },

    close() {
      return agent.close();
    },
  };
}
