/**
 * The WebSocket terminal: only a WebSocket handshake (a GET, RFC 6455) is judged and tunnelled;
 * any other upgrade (h2c included) is refused. A cookie-authenticated handshake from a foreign
 * origin is refused (cross-site WebSocket hijacking). Once the upstream answers 101, the two
 * sockets are piped and either side closing takes the other with it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { REASONS } from '../errors.js';
import type { Reason } from '../errors.js';
import type { RequestInfo } from '../http/request-info.js';
import { sendSocketError } from '../http/respond.js';
import { decide } from '../pipeline/decide.js';
import { extractToken } from '../pipeline/extract-token.js';
import type { RuntimeState } from '../state/runtime-state.js';
import { upstreamHeaders, upstreamQuery } from './proxy.js';
import { reject, settle } from './settle.js';
import type { Exchange, Refuse } from './settle.js';

function sameOrigin(origin: string, info: RequestInfo, state: RuntimeState): boolean {
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  return host === info.host.toLowerCase() || host === state.publicHost;
}

/** The upstream's 101 as raw lines, with portcullis' own request id. */
function switchingProtocols(requestId: string, headers: IncomingMessage['headers']): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', `x-request-id: ${requestId}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'x-request-id') continue;
    for (const v of Array.isArray(value) ? value : [value ?? '']) lines.push(`${name}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function tunnel(x: Exchange, socket: Duplex, upstream: Duplex, head: Buffer): void {
  if (head.length > 0) upstream.write(head);
  // Either side going away takes the other with it: no half-open tunnels.
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  upstream.once('close', () => socket.destroy());
  socket.once('close', () => upstream.destroy());
  x.deps.tunnels?.add(socket);
  socket.once('close', () => x.deps.tunnels?.delete(socket));
  upstream.pipe(socket).pipe(upstream);
}

export async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, x: Exchange, readFailure?: Reason): Promise<void> {
  const { deps, info, state } = x;
  const refuse: Refuse = (reason) => {
    sendSocketError(socket, reason, { requestId: info.requestId });
    return REASONS[reason].status;
  };
  if (readFailure !== undefined) return reject(x, readFailure, refuse);
  if (deps.draining?.()) return reject(x, 'shutting_down', refuse);
  // The upstream always receives a GET, so judging any other method would judge a different request.
  const protocol = String(req.headers.upgrade ?? '').toLowerCase();
  if (protocol !== 'websocket' || info.method !== 'GET') return reject(x, 'invalid_request', refuse);

  const extracted = extractToken(req.headers, info.query, state.config.tokens);
  const origin = req.headers.origin;
  if (extracted.kind === 'token' && extracted.source === 'cookie' && origin !== undefined && !sameOrigin(origin, info, state)) {
    return reject(x, 'forbidden_origin', refuse);
  }

  const controller = new AbortController();
  socket.once('close', () => controller.abort());
  await settle(x, await decide(info, state.pipeline), refuse, async (granted) => {
    const route = granted.route;
    if (!route.upstream) return { refuse: 'not_found' };
    if (controller.signal.aborted) return undefined;
    try {
      const headers = upstreamHeaders(req, x, granted, true);
      const upstream = await deps.proxy.upgrade(route, headers, info.path, upstreamQuery(x), controller.signal);
      socket.write(switchingProtocols(info.requestId, upstream.headers));
      tunnel(x, socket, upstream.socket, head);
      return 101;
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERR_UPGRADE';
      if (controller.signal.aborted && code !== 'UND_ERR_HEADERS_TIMEOUT') return undefined;
      deps.log.upstreamError({ requestId: info.requestId, route: route.name, method: info.method, host: info.host, path: info.path, code });
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED';
      return refuse(timedOut ? 'upstream_timeout' : 'upstream_unavailable');
    }
  });
}
