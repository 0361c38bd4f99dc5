/**
 * Builds one oidc-provider instance of the development IdP from its settings.
 *
 * Enforces: access tokens for the API are RS256 JWTs (`typ: at+jwt`, `aud` = the audience)
 * signed with the current key and carrying Keycloak-shaped claims; PKCE (S256) is required for
 * the code flow; the provider's quick-start dev interactions are off (the IdP's own login form
 * checks passwords); CORS is allowed for loopback origins only; refresh tokens rotate; every
 * production-only notice is answered by configuration instead of printed.
 */
import type { JWK } from 'jose';
import type * as OidcProviderModule from 'oidc-provider';
import type { Adapter, Provider, ResourceServerInfo } from 'oidc-provider';
import { passwordGrantHandler, PASSWORD_GRANT_PARAMETERS, PASSWORD_GRANT_TYPE } from './idp-password-grant.js';
import { errorPage, loggedOutPage, logoutPage } from './idp-pages.js';
import { findUserById, keycloakClaims, profileClaims } from './users.js';
import type { DevUser } from './users.js';

export type OidcModule = typeof OidcProviderModule;

let loading: Promise<OidcModule> | undefined;

/**
 * Imports oidc-provider once. Its import-time "Unsupported runtime" notice is dropped: this
 * project supports Node.js 20.19+, on which the provider runs, and the notice would only confuse.
 */
export function loadOidcProvider(): Promise<OidcModule> {
  loading ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime')) return;
      warn(...args);
    };
    try {
      return await import('oidc-provider');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes("'oidc-provider'")) {
        throw new Error('portcullis dev needs the optional package oidc-provider: npm install oidc-provider', { cause: err });
      }
      throw err;
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}

/** Scopes the API resource server knows; the `scope` claim of access tokens is drawn from them. */
export const RESOURCE_SCOPES = 'openid profile email offline_access api:read api:write';

export interface ProviderSettings {
  readonly issuer: string;
  readonly audience: string;
  /** Resource indicator (an absolute URI) naming the API; its tokens carry `aud` = audience. */
  readonly resourceIndicator: string;
  readonly accessTokenTtlSec: number;
  readonly users: readonly DevUser[];
  /** Private signing JWKs; the first one signs. */
  readonly signingKeys: readonly JWK[];
  readonly cookieKeys: readonly string[];
  readonly adapter: (model: string) => Adapter;
}

interface HtmlContext {
  type: string;
  body: unknown;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopbackOrigin(origin: string): boolean {
  const url = URL.canParse(origin) ? new URL(origin) : undefined;
  return url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
}

export function createProvider(oidc: OidcModule, settings: ProviderSettings): Provider {
  const { users, resourceIndicator } = settings;
  const kid = settings.signingKeys[0]?.kid;
  const resourceServerInfo = (): ResourceServerInfo => ({
    scope: RESOURCE_SCOPES,
    audience: settings.audience,
    accessTokenTTL: settings.accessTokenTtlSec,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256', ...(kid === undefined ? {} : { kid }) } },
  });

  const provider = new oidc.Provider(settings.issuer, {
    adapter: settings.adapter,
    jwks: { keys: settings.signingKeys.map((key) => ({ ...key })) },
    cookies: { keys: [...settings.cookieKeys] },
    claims: { email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    responseTypes: ['code'],
    clientBasedCORS: (_ctx: unknown, origin: string) => isLoopbackOrigin(origin),
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    findAccount: (_ctx: unknown, id: string) => {
      const user = findUserById(users, id);
      return user && { accountId: user.id, claims: () => profileClaims(user) };
    },
    extraTokenClaims: (_ctx: unknown, token: { accountId?: string; clientId?: string }) => {
      const user = token.accountId === undefined ? undefined : findUserById(users, token.accountId);
      return user && keycloakClaims(user, token.clientId);
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    renderError: (ctx: HtmlContext, out: Record<string, unknown>) => {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
    ttl: {
      AccessToken: settings.accessTokenTtlSec,
      AuthorizationCode: 60,
      ClientCredentials: settings.accessTokenTtlSec,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 8 * 3600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      // RFC 7009: portcullis revokes the refresh token at logout.
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: HtmlContext, form: string) => {
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: (ctx: HtmlContext) => {
          ctx.body = loggedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf ?? resourceIndicator,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resourceIndicator) throw new oidc.errors.InvalidTarget();
          return resourceServerInfo();
        },
      },
    },
  });

  provider.registerGrantType(
    PASSWORD_GRANT_TYPE,
    passwordGrantHandler(oidc.errors, provider, { users, resourceIndicator, resourceServerInfo }),
    PASSWORD_GRANT_PARAMETERS,
  );
  return provider;
}
