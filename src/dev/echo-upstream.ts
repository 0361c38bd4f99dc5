/**
 * Demo echo upstream for `portcullis dev` and the tests: answers every request with JSON
 * `{ method, url, headers, body }` and records it.
 *
 * Enforces: bodies are recorded and echoed up to 64 KiB (the rest is read and dropped);
 * `/slow?ms=N` waits N ms (at most 60 s) before answering; `/status/NNN` answers status NNN
 * (200-599); WebSocket upgrades on any path get an RFC 6455 echo and are recorded too;
 * close() ends pending timers, open connections and WebSockets.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptWebSocket } from './ws-echo.js';
import { listen } from '../http/listen.js';

export interface EchoRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface EchoUpstream {
  readonly url: string;
  requests(): EchoRequest[];
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const MAX_DELAY_MS = 60_000;

async function readCapped(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    const room = MAX_BODY_BYTES - kept;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      chunks.push(part);
      kept += part.length;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function statusFor(pathname: string): number {
  const match = /^\/status\/(\d{3})$/.exec(pathname);
  const status = match?.[1] === undefined ? 200 : Number(match[1]);
  return status >= 200 && status <= 599 ? status : 200;
}

export async function startEchoUpstream(opts: { host?: string; port?: number } = {}): Promise<EchoUpstream> {
  let seen: EchoRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Duplex>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readCapped(req);
    const record: EchoRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
    seen.push(record);
    const target = URL.parse(record.url, 'http://upstream.invalid');
    const pathname = target?.pathname ?? '/';
    if (pathname === '/slow') {
      const ms = Math.min(Math.max(Number(target?.searchParams.get('ms')) || 0, 0), MAX_DELAY_MS);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      });
    }
    const status = statusFor(pathname);
    if (status === 204 || status === 304) {
      res.writeHead(status).end();
      return;
    }
    const json = JSON.stringify(record);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: '' });
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    acceptWebSocket(req, socket, head);
  });

  await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 0);
  const { address, port } = server.address() as AddressInfo;

  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    requests: () => [...seen],
    reset() {
      seen = [];
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
