/**
 * ID token check of the browser login callback: the login issuer's own key store and the
 * flow's nonce handed to the shared verifier (src/verify/id-token.ts holds the rules).
 */
import type { TokenReason } from '../errors.js';
import { verifyIdToken } from '../verify/id-token.js';
import type { LoginEnv } from './context.js';

export type IdTokenResult =
  | { readonly ok: true; readonly sub: string }
  | { readonly ok: false; readonly reason: TokenReason | 'invalid_state' };

export async function checkIdToken(env: LoginEnv, idToken: string, nonce: string, accessToken: string): Promise<IdTokenResult> {
  const store = env.state.stores.get(env.issuer.name);
  if (store === undefined || env.issuer.issuer === undefined) return { ok: false, reason: 'auth_unavailable' };
  const verified = await verifyIdToken(idToken, env.issuer, store, { clientId: env.login.clientId, nonce, accessToken }, env.now());
  return verified.ok ? { ok: true, sub: verified.sub } : { ok: false, reason: verified.reason };
}
