/**
 * The benchmark's identity provider side: one RSA-2048 key, a JWKS/discovery server in this
 * process (it is only read at start-up and on unknown kids, and its hits are counted so a
 * refetch storm shows), and the token sets of the scenarios:
 * valid (distinct `sub`/`jti`), expired (properly signed), forged (valid claims, random
 * signature bytes) and unknown kid (a random `kid` per token).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function createKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  return {
    kid,
    privateKey,
    publicKey,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
  };
}

/** Serves discovery and the JWKS on 127.0.0.1:0; `hits.jwks` counts key fetches. */
export async function startJwks(key) {
  const hits = { discovery: 0, jwks: 0 };
  let url = '';
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      hits.discovery += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
    } else if (req.url === '/jwks') {
      hits.jwks += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
  return {
    url,
    jwksUri: `${url}/jwks`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/** Claims of user `n`: an access token as an IdP issues it. */
function claims(iss, n, nowSec, lifetimeSec) {
  return {
    iss,
    sub: `user-${n}`,
    aud: 'api',
    iat: nowSec - 10,
    exp: nowSec + lifetimeSec,
    jti: randomBytes(8).toString('hex'),
    email: `user-${n}@example.com`,
    preferred_username: `user${n}`,
    groups: ['staff', 'bench'],
    realm_access: { roles: ['reader'] },
  };
}

/** RS256-signs `inputs` on every core; resolves the compact tokens in order. */
async function signAll(key, inputs) {
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const parts = Math.min(availableParallelism(), Math.max(1, inputs.length));
  const size = Math.ceil(inputs.length / parts);
  const batches = [];
  for (let i = 0; i < inputs.length; i += size) {
    const slice = inputs.slice(i, i + size);
    batches.push(
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL('./mint-worker.js', import.meta.url), { workerData: { pem, inputs: slice } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
    );
  }
  return (await Promise.all(batches)).flat();
}

/**
 * Every token set the scenarios need, minted against `iss` at `nowSec`.
 * `valid` holds `validCount` distinct tokens; `valid[0]` is the single cache-hit token.
 */
export async function mintTokenSets(key, iss, nowSec, counts) {
  const header = b64({ alg: 'RS256', kid: key.kid, typ: 'JWT' });
  const validInputs = [];
  for (let n = 0; n < counts.valid; n += 1) validInputs.push(`${header}.${b64(claims(iss, n, nowSec, 7200))}`);
  const expiredInputs = [];
  for (let n = 0; n < counts.expired; n += 1) expiredInputs.push(`${header}.${b64(claims(iss, n, nowSec - 7200, 3600))}`);
  const signed = await signAll(key, [...validInputs, ...expiredInputs]);
  const forged = [];
  for (let n = 0; n < counts.forged; n += 1) {
    forged.push(`${header}.${b64(claims(iss, n, nowSec, 7200))}.${randomBytes(256).toString('base64url')}`);
  }
  const unknownKid = [];
  for (let n = 0; n < counts.unknownKid; n += 1) {
    const h = b64({ alg: 'RS256', kid: randomBytes(8).toString('hex'), typ: 'JWT' });
    unknownKid.push(`${h}.${b64(claims(iss, n, nowSec, 7200))}.${randomBytes(256).toString('base64url')}`);
  }
  return {
    valid: signed.slice(0, counts.valid),
    expired: signed.slice(counts.valid),
    forged,
    unknownKid,
  };
}

/** One token a line, for the wrk Lua script (or the autocannon runner) to rotate through. */
export function writeTokenFile(file, tokens) {
  writeFileSync(file, `${tokens.join('\n')}\n`);
  return file;
}
