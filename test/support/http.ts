/** A raw node:http client for tests: any header (Expect, Trailer, underscores) goes out as given. */
import { request } from 'node:http';
import type { Server } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

export function http(
  url: string,
  opts: { method?: string; headers?: OutgoingHttpHeaders; body?: string; rawPath?: string; localAddress?: string } = {},
): Promise<HttpResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'GET',
        path: opts.rawPath ?? `${u.pathname}${u.search}`,
        headers: opts.headers,
        agent: false,
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body) as T,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The request the echo upstream answered with (its JSON body). */
export interface Echoed {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Closes a test server now: stops listening and drops open (keep-alive) connections. */
export function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A port free on 127.0.0.1 right now (for a child process that must be told its port). */
export { freePort } from '../../src/cli/dev.js';
