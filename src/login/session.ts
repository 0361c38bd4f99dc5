/**
 * From an IdP token answer to a portcullis session: the access token is verified exactly as
 * any presented token is (same verifier, issuer, audiences and algorithms), the identity is
 * read with the issuer's claim paths, and the cookies are built.
 *
 * Enforces: a token the verifier refuses is never handed out or set as a cookie; the token
 * must come from the login issuer (a token verified against another configured issuer is
 * refused as `untrusted_issuer`); the lifetime is the smaller of the IdP's `expires_in` and the
 * token's own `exp`; the refresh token is stored only sealed, and only with a cookie_secret.
 * The sealed refresh cookie also keeps the ID token, for the logout's `id_token_hint`, but only
 * while the sealed value fits one cookie (CHUNK_BYTES): a large ID token is dropped and logout
 * then names the client by `client_id` alone; a refresh token too long for one cookie is not
 * kept (the session ends with the access token).
 */
import type { TokenReason } from '../errors.js';
import type { Identity } from '../identity/types.js';
import { identityFromClaims } from '../identity/claims.js';
import { tokenFingerprint } from '../verify/index.js';
import type { LoginEnv } from './context.js';
import { CHUNK_BYTES } from '../http/cookie-chunks.js';
import { authCookies, refreshCookie } from './cookies-out.js';
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

/** What the sealed refresh cookie holds: the refresh token and, when it fits, the ID token. */
export interface SealedSession {
  readonly refreshToken: string;
  readonly idToken: string | undefined;
}

/** Reads a sealed refresh cookie's payload (as opened by the sealer). */
export function readSealedSession(payload: Record<string, unknown> | undefined): SealedSession | undefined {
  const rt = payload?.rt;
  if (typeof rt !== 'string' || rt === '') return undefined;
  const idt = payload?.idt;
  return { refreshToken: rt, idToken: typeof idt === 'string' && idt !== '' ? idt : undefined };
}

async function sealSession(env: LoginEnv, refreshToken: string, idToken: string | undefined): Promise<string | undefined> {
  const sealer = env.sealer();
  if (sealer === undefined) return undefined;
  const ttl = env.login.cookie.maxAgeSec;
  if (idToken !== undefined) {
    const withHint = await sealer.seal('refresh', { rt: refreshToken, idt: idToken }, ttl);
    if (withHint.length <= CHUNK_BYTES) return withHint;
  }
  const sealed = await sealer.seal('refresh', { rt: refreshToken }, ttl);
  return sealed.length <= CHUNK_BYTES ? sealed : undefined;
}

/**
 * The auth cookie (and its chunks), and the sealed refresh cookie when there is a refresh token
 * and a secret; undefined when the access token is too long even for chunked cookies.
 * `previousIdToken`: the ID token of the session being renewed, kept when the IdP sent no new one.
 */
export async function sessionCookies(env: LoginEnv, session: Session, tokens: TokenSet, previousIdToken?: string): Promise<string[] | undefined> {
  const cookies = authCookies(env.login.cookie, session.accessToken, session.expiresIn);
  if (cookies === undefined) return undefined;
  if (tokens.refreshToken !== undefined) {
    const sealed = await sealSession(env, tokens.refreshToken, tokens.idToken ?? previousIdToken);
    if (sealed !== undefined) cookies.push(refreshCookie(env.login.cookie, sealed));
  }
  return cookies;
}
