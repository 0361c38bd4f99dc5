/**
 * Resource-owner password grant (`grant_type=password`) of the development IdP.
 *
 * Enforces: the client is authenticated by the provider's token endpoint before this runs; a
 * wrong password and an unknown username give the same `invalid_grant` answer; only scopes the
 * API resource server knows are granted; the access token is the resource server's RS256 JWT
 * (same format and claims as the code flow) and a refresh token is always issued when the
 * client may use the refresh_token grant.
 */
import type { Provider, ProviderContext, ResourceServerInfo, errors as OidcErrors } from 'oidc-provider';
import { checkPassword } from './users.js';
import type { DevUser } from './users.js';

export const PASSWORD_GRANT_TYPE = 'password';
export const PASSWORD_GRANT_PARAMETERS = ['username', 'password', 'scope'];

/** Scope granted when the request names none (what Keycloak puts in its tokens by default). */
const DEFAULT_SCOPE = 'openid profile email';
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface PasswordGrantSettings {
  readonly users: readonly DevUser[];
  /** Resource indicator of the API whose JWT access tokens the grant issues. */
  readonly resourceIndicator: string;
  readonly resourceServerInfo: () => ResourceServerInfo;
}

export function passwordGrantHandler(
  errors: typeof OidcErrors,
  provider: Provider,
  settings: PasswordGrantSettings,
): (ctx: ProviderContext) => Promise<void> {
  return async (ctx) => {
    const { client, params } = ctx.oidc;
    const { username, password } = params;
    if (client === undefined || username === undefined || password === undefined) {
      throw new errors.InvalidRequest('username and password are required');
    }
    const user = checkPassword(settings.users, username, password);
    if (user === undefined) throw new errors.InvalidGrant('invalid resource owner credentials');

    const info = settings.resourceServerInfo();
    const known = new Set(info.scope.split(' '));
    const scopes = (params.scope ?? DEFAULT_SCOPE).split(' ').filter((s) => known.has(s));
    const scope = scopes.join(' ');

    const grant = new provider.Grant({ accountId: user.id, clientId: client.clientId });
    const oidcScope = scopes.filter((s) => OIDC_SCOPES.has(s)).join(' ');
    if (oidcScope !== '') grant.addOIDCScope(oidcScope);
    if (scope !== '') grant.addResourceScope(settings.resourceIndicator, scope);
    const grantId = await grant.save();

    const init = { accountId: user.id, client, grantId, gty: PASSWORD_GRANT_TYPE, scope: scope || undefined };
    const accessToken = new provider.AccessToken(init);
    accessToken.resourceServer = new provider.ResourceServer(settings.resourceIndicator, info);
    const accessTokenValue = await accessToken.save();

    let refreshTokenValue: string | undefined;
    if (client.grantTypeAllowed('refresh_token')) {
      const refreshToken = new provider.RefreshToken({ ...init, resource: settings.resourceIndicator, rotations: 0 });
      refreshTokenValue = await refreshToken.save();
    }

    ctx.body = {
      access_token: accessTokenValue,
      expires_in: accessToken.expiration,
      token_type: accessToken.tokenType,
      ...(refreshTokenValue === undefined ? {} : { refresh_token: refreshTokenValue }),
      ...(accessToken.scope ? { scope: accessToken.scope } : {}),
    };
  };
}
