/**
 * A misbehaving identity provider for fault-injection tests: an OIDC discovery document and a
 * JWKS on 127.0.0.1, whose behaviour is switched at run time. Modes: `ok`, `slow-headers`
 * (answers after `slowMs`), `drip` (200, then one byte every 50 ms, never finishing), `huge`
 * (a 2 MiB chunked body, no Content-Length), `garbage` (200 with broken JSON), `error500`,
 * `flapping` (every other request of each endpoint is a 500), `wrong-issuer` (discovery names another issuer),
 * `redirect` (302 to a canary path) and `down` (the listener is closed: connections are refused;
 * leaving `down` listens again on the same port). It signs tokens with the keys it publishes,
 * rotates them, and counts every hit.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWTPayload } from 'jose';
import { rsaKey } from './keys.js';
import type { TestKey } from './keys.js';
import { mint } from './tokens.js';
import { listen as listenOn } from '../../src/http/listen.js';
import { stopServer } from './http.js';

export type IdpMode = 'ok' | 'slow-headers' | 'drip' | 'huge' | 'garbage' | 'error500' | 'flapping' | 'wrong-issuer' | 'redirect' | 'down';

export interface FaultyIdp {
  /** The issuer URL (also the origin). */
  readonly url: string;
  readonly hits: { discovery: number; jwks: number; redirected: number };
  mode(): IdpMode;
  setMode(mode: IdpMode): Promise<void>;
  /** The key tokens are signed with by default (the newest published). */
  current(): TestKey;
  /** Publishes a new key next to the old ones (or instead of them) and returns it. */
  rotate(opts?: { dropOld?: boolean }): TestKey;
  /** A valid access token signed with `key` (default: current). */
  token(claims?: JWTPayload, key?: TestKey): Promise<string>;
  close(): Promise<void>;
}

const TWO_MIB = 2 * 1024 * 1024;

export async function startFaultyIdp(opts: { mode?: IdpMode; slowMs?: number } = {}): Promise<FaultyIdp> {
  let mode: IdpMode = 'ok';
  let keys: TestKey[] = [rsaKey()];
  const flips = { discovery: 0, jwks: 0 };
  const hits = { discovery: 0, jwks: 0, redirected: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const slowMs = opts.slowMs ?? 2_000;
  let url = '';

  const later = (ms: number, fn: () => void, every = false): NodeJS.Timeout => {
    const timer = every ? setInterval(fn, ms) : setTimeout(() => (timers.delete(timer), fn()), ms);
    timers.add(timer);
    return timer;
  };

  function send(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  function answer(res: ServerResponse, body: () => unknown, isDiscovery: boolean): void {
    const endpoint = isDiscovery ? 'discovery' : 'jwks';
    const failing = mode === 'flapping' && flips[endpoint]++ % 2 === 1;
    switch (mode) {
      case 'slow-headers':
        later(slowMs, () => (res.destroyed ? undefined : send(res, body())));
        return;
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[');
        const timer = later(50, () => res.write(' '), true);
        res.on('close', () => (clearInterval(timer), timers.delete(timer)));
        return;
      }
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [], pad: 'x'.repeat(TWO_MIB) }));
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[{"kty":"RSA", garbage');
        return;
      case 'error500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream IdP failure');
        return;
      case 'redirect':
        res.writeHead(302, { location: `${url}/moved` }).end();
        return;
      case 'wrong-issuer':
        send(res, isDiscovery ? { issuer: 'https://other-issuer.example', jwks_uri: `${url}/jwks` } : body());
        return;
      default:
        if (failing) res.writeHead(500).end();
        else send(res, body());
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/.well-known/openid-configuration') {
      hits.discovery += 1;
      answer(res, () => ({ issuer: url, jwks_uri: `${url}/jwks` }), true);
    } else if (req.url === '/jwks') {
      hits.jwks += 1;
      answer(res, () => ({ keys: keys.map((k) => k.jwk) }), false);
    } else {
      if (req.url === '/moved') hits.redirected += 1;
      res.writeHead(404).end();
    }
  }

  const server = createServer(handle);
  const listen = (port: number): Promise<void> => listenOn(server, '127.0.0.1', port);
  const stop = (): Promise<void> => stopServer(server);

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;

  async function setMode(next: IdpMode): Promise<void> {
    if (next === mode) return;
    if (next === 'down') await stop();
    else if (mode === 'down') await listen(port);
    mode = next;
    flips.discovery = 0;
    flips.jwks = 0;
  }
  await setMode(opts.mode ?? 'ok');

  return {
    url,
    hits,
    mode: () => mode,
    setMode,
    current: () => keys[keys.length - 1]!,
    rotate(rotation = {}) {
      const key = rsaKey();
      keys = rotation.dropOld ? [key] : [...keys, key];
      return key;
    },
    token(claims = {}, key = keys[keys.length - 1]!) {
      const now = Math.floor(Date.now() / 1000);
      return mint(key, { iss: url, sub: 'user-1', aud: 'api', exp: now + 300, iat: now - 5, ...claims });
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      if (mode !== 'down') await stop();
    },
  };
}

/** An issuer entry (YAML, indented as a list item under `issuers:`) with fast JWKS timings. */
export function faultyIssuerYaml(idp: FaultyIdp, jwks: { minRefresh?: string; refresh?: string } = {}): string {
  return `  - name: faulty
    issuer: ${idp.url}
    audiences: [api]
    jwks:
      refresh_interval: ${jwks.refresh ?? '1s'}
      min_refresh_interval: ${jwks.minRefresh ?? '1s'}
      timeout: 500ms
      max_stale: 1h
`;
}
