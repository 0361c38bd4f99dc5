/**
 * A whole environment for end-to-end tests (pomerium's testenv): a real oidc-provider (the dev
 * IdP), a second issuer whose keys the test holds (to mint expired, forged or odd tokens), a
 * real echo upstream, and the sidecar spawned from the built CLI — all on 127.0.0.1:0.
 * `{{UPSTREAM}}` in the routes is replaced by the echo upstream's URL.
 */
import type { Test } from 'tap';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import { startDevIdp } from '../../src/dev/idp.js';
import type { DevIdp, DevIdpOptions } from '../../src/dev/idp.js';
import { startEchoUpstream } from '../../src/dev/echo-upstream.js';
import type { EchoUpstream } from '../../src/dev/echo-upstream.js';
import { rsaKey } from './keys.js';
import type { TestKey } from './keys.js';
import { startJwksServer } from './jwks-server.js';
import type { JwksServer } from './jwks-server.js';
import { mint } from './tokens.js';
import { startSidecarProcess } from './sidecar.js';
import type { SidecarProcess } from './sidecar.js';

export interface Harness {
  readonly idp: DevIdp;
  readonly upstream: EchoUpstream;
  readonly jwks: JwksServer;
  readonly key: TestKey;
  readonly sidecar: SidecarProcess;
  readonly yaml: string;
  /** A token of the test issuer, valid now, with `claims` merged in. */
  mintToken(claims?: JWTPayload, header?: Partial<JWTHeaderParameters>): Promise<string>;
  /** A real access token from the dev IdP's password grant. */
  login(username?: string): Promise<string>;
}

export interface HarnessOptions {
  /** YAML of the `routes:` list items (indented two spaces), with {{UPSTREAM}}. */
  readonly routes: string;
  /** Extra top-level YAML appended to the config (a function when it needs the IdP's client). */
  readonly extra?: string | ((idp: DevIdp) => string);
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for the ready line (a `workers:` cluster starts slower on a busy machine). */
  readonly readyTimeoutMs?: number;
  /** Options of the dev IdP (a fixed client secret or redirect URI the `extra` YAML names). */
  readonly idp?: DevIdpOptions;
}

/** Routes YAML shared by many suites: public `/public`, optionally admin-only `/admin`, and a catch-all `app`. */
export function standardRoutes(opts: { admin?: boolean } = {}): string {
  const admin = opts.admin
    ? `
  - name: admin
    match: { path: /admin }
    upstream: {{UPSTREAM}}
    require: { roles: [admin] }`
    : '';
  return `
  - name: public
    match: { path: /public }
    upstream: {{UPSTREAM}}
    auth: public${admin}
  - name: app
    match: { path: / }
    upstream: {{UPSTREAM}}
`;
}

export function baseConfig(idp: DevIdp, jwks: JwksServer, opts: HarnessOptions, upstream: string): string {
  return `listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
issuers:
  - name: idp
    issuer: ${idp.issuer}
    audiences: [api]
  - name: test
    issuer: ${jwks.url}
    audiences: [api]
    jwks:
      min_refresh_interval: 1s
routes:
${opts.routes.replaceAll('{{UPSTREAM}}', upstream)}
${typeof opts.extra === 'function' ? opts.extra(idp) : (opts.extra ?? '')}
`;
}

export async function harness(t: Test, opts: HarnessOptions): Promise<Harness> {
  const key = rsaKey();
  const [idp, upstream, jwks] = await Promise.all([startDevIdp(opts.idp), startEchoUpstream(), startJwksServer([key.jwk])]);
  const yaml = baseConfig(idp, jwks, opts, upstream.url);
  let sidecar: SidecarProcess;
  try {
    sidecar = await startSidecarProcess(yaml, { ...(opts.env ? { env: opts.env } : {}), ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}) });
  } catch (err) {
    await Promise.all([idp.close(), upstream.close(), jwks.close()]);
    throw err;
  }
  t.teardown(async () => {
    await sidecar.stop();
    await Promise.all([idp.close(), upstream.close(), jwks.close()]);
  });
  const user = idp.users[0]!;
  return {
    idp,
    upstream,
    jwks,
    key,
    sidecar,
    yaml,
    mintToken(claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      return mint(key, { iss: jwks.url, sub: 'user-1', aud: 'api', exp: now + 300, iat: now - 5, ...claims }, header);
    },
    async login(username = user.username) {
      const u = idp.users.find((x) => x.username === username) ?? user;
      return (await idp.passwordLogin(u.username, u.password)).access_token;
    },
  };
}
