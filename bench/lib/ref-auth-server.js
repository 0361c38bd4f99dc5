/**
 * The minimal authenticating Node server of the benchmark (a reference, not a product): jose's
 * `jwtVerify` against a local JWKS (given as JSON in argv[2], with the issuer in argv[3] and the
 * audience in argv[4]) and a Map used as an LRU keyed by the whole token. Reads the request
 * headers, answers 200 for a valid bearer token and 401 otherwise. Prints `{"port":N}` on stdout.
 */
import { createServer } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [jwksJson = '{"keys":[]}', issuer, audience] = process.argv.slice(2);
const jwks = createLocalJWKSet(JSON.parse(jwksJson));
const MAX = 10_000;
/** token -> expiry in seconds; Map order is insertion order, re-inserted on a hit. */
const cache = new Map();

async function valid(token) {
  const exp = cache.get(token);
  if (exp !== undefined && exp > Date.now() / 1000) {
    cache.delete(token);
    cache.set(token, exp);
    return true;
  }
  try {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['RS256'] });
    if (cache.size >= MAX) cache.delete(cache.keys().next().value);
    cache.set(token, payload.exp ?? 0);
    return true;
  } catch {
    return false;
  }
}

const server = createServer((req, res) => {
  const auth = req.headers.authorization;
  const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
  void (token === undefined ? Promise.resolve(false) : valid(token)).then((ok) => res.writeHead(ok ? 200 : 401, { 'content-length': '0' }).end());
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: /** @type {import('node:net').AddressInfo} */ (server.address()).port })}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
