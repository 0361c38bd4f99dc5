/**
 * From an IdP token answer to a portcullis session: the access token is verified exactly as
 * any presented token is (same verifier, issuer, audiences and algorithms), the identity is
 * read with the issuer's claim paths, and the cookies are built.
 *
 * Enforces: a token the verifier refuses is never handed out or set as a cookie; the token
 * must come from the login issuer (a token verified against another configured issuer is
 * refused as `untrusted_issuer`); the lifetime is the smaller of the IdP's `expires_in` and the
 * token's own `exp`; the refresh token is stored only sealed, and only with a cookie_secret.
 */
import type { TokenReason } from '../errors.js';
import type { Identity } from '../identity/types.js';
import { identityFromClaims } from '../identity/claims.js';
import { tokenFingerprint } from '../verify/index.js';
import type { LoginEnv } from './context.js';
import { authCookie, refreshCookie } from './cookies-out.js';
import type { TokenSet } from './idp-client.js';

export interface Session {
  readonly identity: Identity;
  readonly accessToken: string;
  readonly expiresIn: number;
  /** Token fingerprint (first 12 hex chars of its SHA-256), for the audit line. */
  readonly fingerprint: string;
}

export type SessionResult = { readonly ok: true; readonly session: Session } | { readonly ok: false; readonly reason: TokenReason };

export async function verifySession(env: LoginEnv, tokens: TokenSet): Promise<SessionResult> {
  const verified = await env.state.verifier.verify(tokens.accessToken);
  if (!verified.ok) return { ok: false, reason: verified.reason };
  if (verified.token.issuer !== env.issuer.name) return { ok: false, reason: 'untrusted_issuer' };
  const remaining = Math.floor(verified.token.exp - env.now() / 1000);
  const expiresIn = Math.min(tokens.expiresIn ?? remaining, remaining);
  if (expiresIn <= 0) return { ok: false, reason: 'expired' };
  const identity = identityFromClaims(verified.token.claims, env.issuer.claims, env.issuer.issuer);
  if (identity.user === '') return { ok: false, reason: 'missing_claim' };
  return {
    ok: true,
    session: {
      identity,
      accessToken: tokens.accessToken,
      expiresIn,
      fingerprint: tokenFingerprint(tokens.accessToken),
    },
  };
}

/** The auth cookie, and the sealed refresh cookie when there is a refresh token and a secret. */
export async function sessionCookies(env: LoginEnv, session: Session, refreshToken: string | undefined): Promise<string[]> {
  const cookies = [authCookie(env.login.cookie, session.accessToken, session.expiresIn)];
  const sealer = env.sealer();
  if (refreshToken !== undefined && sealer !== undefined) {
    const sealed = await sealer.seal('refresh', { rt: refreshToken }, env.login.cookie.maxAgeSec);
    cookies.push(refreshCookie(env.login.cookie, sealed));
  }
  return cookies;
}
