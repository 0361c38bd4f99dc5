/**
 * The minimal Node reverse proxy of the benchmark (a reference, no auth): undici's
 * `Pool.stream` to the upstream origin in argv[2], the response streamed back with its status
 * and headers. Prints `{"port":N}` on stdout once it accepts.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.argv[2] ?? 'http://127.0.0.1:1', { connections: 64 });

const server = createServer((req, res) => {
  pool.stream(
    { path: req.url ?? '/', method: /** @type {import('undici').Dispatcher.HttpMethod} */ (req.method), headers: req.headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
    ({ statusCode, headers }) => {
      res.writeHead(statusCode, /** @type {import('node:http').OutgoingHttpHeaders} */ (headers));
      return res;
    },
    (err) => {
      if (err && !res.headersSent) res.writeHead(502).end();
    },
  );
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: /** @type {import('node:net').AddressInfo} */ (server.address()).port })}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => void pool.close().then(() => process.exit(0)));
});
