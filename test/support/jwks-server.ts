/**
 * A real HTTP IdP stand-in on 127.0.0.1:0 serving an OIDC discovery document and a JWKS.
 * Each endpoint can be switched to a failure mode (500, hang, drip-feed, 2 MiB body with or
 * without Content-Length, redirect, garbage); keys can be rotated; hits are counted.
 * `issuerFor()` builds an IssuerConfig pointing at it.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonWebKey } from 'node:crypto';
import type { IssuerConfig } from '../../src/config/types.js';

export type Mode = 'ok' | 'error500' | 'hang' | 'drip' | 'huge' | 'huge-declared' | 'redirect' | 'garbage';

export interface JwksServer {
  /** Origin, also the default issuer URL: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly jwksUri: string;
  readonly hits: { discovery: number; jwks: number };
  readonly modes: { discovery: Mode; jwks: Mode };
  setKeys(keys: readonly JsonWebKey[]): void;
  /** Replaces the discovery document (default `{ issuer: url, jwks_uri: jwksUri }`). */
  setDiscoveryDocument(doc: unknown): void;
  close(): Promise<void>;
}

const TWO_MIB = 2 * 1024 * 1024;

export async function startJwksServer(keys: readonly JsonWebKey[] = []): Promise<JwksServer> {
  let published: readonly JsonWebKey[] = keys;
  const hits = { discovery: 0, jwks: 0 };
  const modes: { discovery: Mode; jwks: Mode } = { discovery: 'ok', jwks: 'ok' };
  const timers = new Set<NodeJS.Timeout>();
  let url = '';
  let discovery: unknown;

  function answer(res: ServerResponse, mode: Mode, body: () => unknown): void {
    switch (mode) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body()));
        return;
      case 'error500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal failure body');
        return;
      case 'hang':
        return;
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[');
        const timer = setInterval(() => res.write(' '), 20);
        timers.add(timer);
        res.on('close', () => {
          clearInterval(timer);
          timers.delete(timer);
        });
        return;
      }
      case 'huge':
      case 'huge-declared': {
        const text = JSON.stringify({ keys: [], pad: 'x'.repeat(TWO_MIB) });
        const headers = mode === 'huge-declared' ? { 'content-length': String(Buffer.byteLength(text)) } : {};
        res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(text);
        return;
      }
      case 'redirect':
        res.writeHead(302, { location: `${url}/moved` }).end();
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ not json');
        return;
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/.well-known/openid-configuration') {
      hits.discovery += 1;
      answer(res, modes.discovery, () => discovery);
    } else if (req.url === '/jwks' || req.url === '/moved') {
      hits.jwks += 1;
      answer(res, modes.jwks, () => ({ keys: published }));
    } else {
      res.writeHead(404).end();
    }
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  discovery = { issuer: url, jwks_uri: `${url}/jwks` };

  return {
    url,
    jwksUri: `${url}/jwks`,
    hits,
    modes,
    setKeys(next) {
      published = next;
    },
    setDiscoveryDocument(doc) {
      discovery = doc;
    },
    close() {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An issuer entry for `server`: discovery by default, or `jwksUri` when given in `overrides`. */
export function issuerFor(server: JwksServer, overrides: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    name: 'main',
    issuer: server.url,
    jwksUri: undefined,
    audiences: ['api'],
    algorithms: ['RS256'],
    clockSkewSec: 30,
    jwks: { refreshIntervalMs: 600_000, minRefreshIntervalMs: 30_000, timeoutMs: 2_000, maxStaleMs: 86_400_000 },
    claims: { user: 'sub', email: 'email', username: 'preferred_username', groups: 'groups', roles: ['realm_access.roles'] },
    secret: undefined,
    allowHttp: false,
    ...overrides,
  };
}
