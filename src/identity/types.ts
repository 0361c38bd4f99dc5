/**
 * The identity an authenticator produces and the upstream receives (docs/decisions.md).
 *
 * @example
 * const identity: Identity = {
 *   user: '7f3c…', email: 'ada@example.com', username: 'ada',
 *   groups: ['/acme/data'], roles: ['analyst'], issuer: 'https://kc.example.com/realms/acme',
 *   claims: { sub: '7f3c…', scope: 'openid query:read' },
 * };
 */
export interface Identity {
  /** Stable user id (the `sub` claim for JWTs). */
  readonly user: string;
  readonly email?: string | undefined;
  readonly username?: string | undefined;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  /** Issuer URL (JWT) or the authenticator's own name. */
  readonly issuer?: string | undefined;
  /** All verified claims; used by `require.claims` and `require.scopes`. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The raw credential, forwarded only on routes with `forward_token`. */
  readonly token?: string | undefined;
  /** Expiry in seconds since the epoch, when the credential has one. */
  readonly exp?: number | undefined;
}
