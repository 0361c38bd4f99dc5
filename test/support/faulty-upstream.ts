/**
 * A misbehaving upstream for fault-injection tests, on 127.0.0.1. By path: `/reset` destroys
 * the connection on arrival, `/reset-mid-body` sends 200 headers and part of a body then
 * destroys it, `/slow` answers after `slowMs`, `/drip` sends 200 headers at once and then one
 * byte every 50 ms for `dripMs` (holding its connection with the answer started), `/upload`
 * reads the whole request body before answering its length, anything else answers 200 JSON. Upgrades:
 * `/ws-refused` answers 403, `/ws-drop` destroys the socket. `setDown(true)` closes the
 * listener (connections refused); `setDown(false)` listens again on the same port. Every
 * request is counted by path.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen as listenOn } from '../../src/http/listen.js';
import { stopServer } from './http.js';

export interface FaultyUpstream {
  readonly url: string;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultyUpstream(opts: { slowMs?: number; dripMs?: number } = {}): Promise<FaultyUpstream> {
  const hits = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const count = (url: string | undefined): string => {
    const path = (url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    return path;
  };

  const server = createServer((req, res) => {
    const path = count(req.url);
    if (path === '/reset') {
      req.socket.destroy();
    } else if (path === '/reset-mid-body') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('partial body');
      const timer = setTimeout(() => (timers.delete(timer), req.socket.destroy()), 50);
      timers.add(timer);
    } else if (path === '/slow') {
      const timer = setTimeout(() => (timers.delete(timer), res.end('late')), opts.slowMs ?? 3_000);
      timers.add(timer);
    } else if (path === '/drip') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 50);
      const done = setTimeout(() => (clearInterval(timer), timers.delete(timer), timers.delete(done), res.end()), opts.dripMs ?? 3_000);
      timers.add(timer).add(done);
      res.on('close', () => (clearInterval(timer), clearTimeout(done)));
    } else if (path === '/upload') {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path }));
    }
  });
  server.on('upgrade', (req, socket) => {
    const path = count(req.url);
    if (path === '/ws-refused') socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  const listen = (port: number): Promise<void> => listenOn(server, '127.0.0.1', port);
  const stop = (): Promise<void> => stopServer(server);

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let down = false;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    async setDown(next) {
      if (next === down) return;
      down = next;
      await (next ? stop() : listen(port));
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      if (!down) await stop();
    },
  };
}
