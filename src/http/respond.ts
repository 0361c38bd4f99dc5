/**
 * The only writer of error responses (docs/decisions.md): `{ error, error_description, request_id }` as
 * JSON, `X-Request-Id`, `WWW-Authenticate` per RFC 6750 on 401 (bare when nothing was
 * presented), `Retry-After` where the reason asks for it, `Cache-Control: no-store`.
 * Descriptions come from the reason table, never from request data. A caller that found the
 * client prefers HTML (html-error.ts) passes `html`: the same answer as a small HTML page.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { REASONS } from '../errors.js';
import type { Reason } from '../errors.js';
import { HTML_HEADERS, htmlErrorPage } from './html-error.js';
import type { PageLinks } from './html-error.js';

export interface ErrorOptions {
  readonly requestId: string;
  /** Seconds for Retry-After (defaults to 5 where the reason wants one). */
  readonly retryAfterSec?: number;
  /** Omit the body (HEAD). */
  readonly head?: boolean;
  readonly extraHeaders?: Readonly<Record<string, string>>;
  /** Answer an HTML page with these links instead of JSON (the client prefers text/html). */
  readonly html?: PageLinks;
}

const DEFAULT_RETRY_AFTER_SEC = 5;

function quoteParam(value: string): string {
  return value.replace(/[\\"]/g, '\\$&');
}

/** The status, headers and body of an error answer, shared by HTTP and raw-socket writers. */
export function errorResponse(
  reason: Reason,
  opts: ErrorOptions,
): { status: number; headers: Record<string, string>; body: string } {
  const entry = REASONS[reason];
  const body =
    opts.html === undefined
      ? JSON.stringify({ error: entry.error, error_description: entry.description, request_id: opts.requestId })
      : htmlErrorPage(entry.status, entry.error, entry.description, opts.requestId, opts.html);
  const headers: Record<string, string> = {
    ...(opts.html === undefined ? { 'content-type': 'application/json' } : HTML_HEADERS),
    'cache-control': 'no-store',
    'x-request-id': opts.requestId,
    'content-length': String(opts.head ? 0 : Buffer.byteLength(body)),
    ...opts.extraHeaders,
  };
  if (entry.status === 401) {
    headers['www-authenticate'] =
      reason === 'missing_token'
        ? 'Bearer realm="portcullis"'
        : `Bearer realm="portcullis", error="${entry.error}", error_description="${quoteParam(entry.description)}"`;
  } else if (reason === 'insufficient_scope') {
    headers['www-authenticate'] =
      `Bearer realm="portcullis", error="insufficient_scope", error_description="${quoteParam(entry.description)}"`;
  }
  if ('retryAfter' in entry && entry.retryAfter) {
    headers['retry-after'] = String(opts.retryAfterSec ?? DEFAULT_RETRY_AFTER_SEC);
  }
  return { status: entry.status, headers, body: opts.head ? '' : body };
}

export function sendError(res: ServerResponse, reason: Reason, opts: ErrorOptions): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = errorResponse(reason, opts);
  res.writeHead(status, headers);
  res.end(body);
}

/** Writes an error as a raw HTTP/1.1 response on an upgrade socket, then closes it. */
export function sendSocketError(socket: Duplex, reason: Reason, opts: ErrorOptions): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, headers, body } = errorResponse(reason, opts);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** A JSON success answer (userinfo, login, logout). */
export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  requestId: string,
  headers: Readonly<Record<string, string | string[]>> = {},
): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'x-request-id': requestId,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}
