/**
 * The minimal Node HTTP server of the benchmark, run as its own process: scenario 1's bare
 * reference and the upstream of every proxy scenario. Reads the request headers (as any real
 * handler does: Node builds `req.headers` lazily), answers every request 200 with a small fixed
 * body, listens on 127.0.0.1:0 and prints `{"port":N}` on stdout once it accepts.
 */
import { createServer } from 'node:http';

const BODY = Buffer.from('{"ok":true}\n');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

const server = createServer((req, res) => {
  // HTTP/1.1 requires Host; reading it builds the headers object as any real handler would.
  if (req.headers.host === undefined) {
    res.writeHead(400).end();
    return;
  }
  res.writeHead(200, HEADERS);
  res.end(BODY);
  req.resume();
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
