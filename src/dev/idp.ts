/**
 * Embedded development IdP: a real oidc-provider on a loopback node:http server, with demo
 * users, for `portcullis dev` and the end-to-end tests.
 *
 * Enforces: the issuer is the actual listening origin (port 0 works); one confidential client
 * whose redirect URIs can be added at run time; RSA-2048 RS256 signing keys with a `kid`, where
 * a rotation publishes the new key next to the old until `dropOldKeys()` (the provider instance
 * is rebuilt on the same server and the same store, so sessions and refresh tokens survive);
 * request counters for the token, JWKS and discovery endpoints. Never logs a token or password.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import type { JWK } from 'jose';
import type { Provider } from 'oidc-provider';
import { handleInteraction, isInteractionPath } from './idp-interactions.js';
import { createProvider, loadOidcProvider } from './idp-provider.js';
import { createIdpStore } from './idp-store.js';
import { DEMO_USERS } from './users.js';
import type { DevUser } from './users.js';
import { listen } from '../http/listen.js';

export type { DevUser } from './users.js';

export interface DevIdpOptions {
  host?: string;
  port?: number;
  /**
   * Host name of the issuer URL when it should not be the listening address, e.g. `localhost`
   * for an IdP on 127.0.0.1: a browser then sees the IdP and a sidecar on 127.0.0.1 as two
   * sites (ports do not make sites). It must resolve to the listening address.
   */
  issuerHost?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUris?: string[];
  /** `aud` of access tokens (default `api`). */
  audience?: string;
  accessTokenTtlSec?: number;
  users?: DevUser[];
  /** How the client authenticates at the token endpoint (default client_secret_basic). */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface PasswordLoginResult {
  access_token: string;
  expires_in: number;
  token_type: string;
  refresh_token?: string;
  scope?: string;
}

export interface DevIdp {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly users: readonly DevUser[];
  addRedirectUri(uri: string): void;
  rotateKeys(): Promise<void>;
  dropOldKeys(): Promise<void>;
  passwordLogin(username: string, password: string): Promise<PasswordLoginResult>;
  counters(): { token: number; jwks: number; discovery: number };
  close(): Promise<void>;
}

const generateKeyPairAsync = promisify(generateKeyPair);

async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e });
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

/** Audiences that are not absolute URIs get a URN resource indicator, which the provider needs. */
function resourceIndicatorFor(audience: string): string {
  return URL.canParse(audience) ? audience : `urn:portcullis:audience:${encodeURIComponent(audience)}`;
}

function checkRedirectUri(uri: string): string {
  const url = URL.canParse(uri) ? new URL(uri) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hash !== '') {
    throw new TypeError('redirect URI must be an absolute http(s) URL without fragment');
  }
  return url.href;
}

export async function startDevIdp(opts: DevIdpOptions = {}): Promise<DevIdp> {
  const oidc = await loadOidcProvider();
  const clientId = opts.clientId ?? 'portcullis';
  const clientSecret = opts.clientSecret ?? randomBytes(32).toString('base64url');
  const authMethod = opts.tokenEndpointAuthMethod ?? 'client_secret_basic';
  const audience = opts.audience ?? 'api';
  const accessTokenTtlSec = opts.accessTokenTtlSec ?? 300;
  const users: readonly DevUser[] = Object.freeze([...(opts.users ?? DEMO_USERS)]);
  const redirectUris = (opts.redirectUris ?? []).map(checkRedirectUri);
  const counts = { token: 0, jwks: 0, discovery: 0 };
  const cookieKeys = [randomBytes(32).toString('base64url')];
  let keys: JWK[] = [await generateSigningKey()];

  const store = createIdpStore((id) => {
    if (id !== clientId) return undefined;
    const withCode = redirectUris.length > 0;
    return {
      client_id: clientId,
      client_secret: clientSecret,
      client_name: 'portcullis (development)',
      token_endpoint_auth_method: authMethod,
      grant_types: withCode ? ['authorization_code', 'refresh_token', 'password'] : ['refresh_token', 'password'],
      response_types: withCode ? ['code'] : [],
      redirect_uris: [...redirectUris],
      post_logout_redirect_uris: [...new Set(redirectUris.map((uri) => `${new URL(uri).origin}/`))],
    };
  });

  let provider: Provider | undefined;
  let callback: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;

  const server = createServer((req, res) => {
    const pathname = URL.parse(req.url ?? '/', 'http://idp.invalid')?.pathname ?? '/';
    if (pathname === '/token') counts.token += 1;
    else if (pathname === '/jwks') counts.jwks += 1;
    else if (pathname === '/.well-known/openid-configuration') counts.discovery += 1;
    if (provider === undefined || callback === undefined) {
      res.writeHead(503).end();
    } else if (isInteractionPath(pathname)) {
      void handleInteraction(provider, users, req, res, pathname);
    } else {
      void callback(req, res);
    }
  });
  await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 0);
  const { address, port } = server.address() as AddressInfo;
  const issuerHost = opts.issuerHost ?? (address.includes(':') ? `[${address}]` : address);
  const issuer = `http://${issuerHost}:${port}`;
  const resourceIndicator = resourceIndicatorFor(audience);

  const build = (): void => {
    const next = createProvider(oidc, {
      issuer,
      audience,
      resourceIndicator,
      accessTokenTtlSec,
      users,
      signingKeys: keys,
      cookieKeys,
      adapter: store.adapterFor,
    });
    callback = next.callback();
    provider = next;
  };
  build();

  const tokenEndpoint = `${issuer}/token`;

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint,
    clientId,
    clientSecret,
    users,
    addRedirectUri(uri) {
      const href = checkRedirectUri(uri);
      if (!redirectUris.includes(href)) redirectUris.push(href);
    },
    async rotateKeys() {
      keys = [await generateSigningKey(), ...keys];
      build();
    },
    dropOldKeys() {
      keys = keys.slice(0, 1);
      build();
      return Promise.resolve();
    },
    async passwordLogin(username, password) {
      const body = new URLSearchParams({ grant_type: 'password', username, password, scope: 'openid profile email' });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (authMethod === 'client_secret_post') {
        body.set('client_id', clientId);
        body.set('client_secret', clientSecret);
      } else {
        const basic = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
        headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
      }
      const res = await fetch(tokenEndpoint, { method: 'POST', headers, body });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`password login failed: HTTP ${res.status} ${String(json.error)}`);
      return json as unknown as PasswordLoginResult;
    },
    counters: () => ({ ...counts }),
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
