/**
 * The one decision pipeline shared by the reverse proxy, WebSocket upgrades and the
 * forward-auth endpoint (oathkeeper's HandleRequest): match route → extract token →
 * authenticate (ordered chain) → authorise. Denials are values; nothing here writes HTTP,
 * metrics or audit lines — the terminals do that once per request.
 *
 * - `public` routes stop after matching: no credential is even read.
 * - `optional` routes let a request with no credential through anonymously, but a presented
 *   credential that fails is denied (Envoy CVE-2021-21378).
 * - The first authenticator that returns an identity wins; `null` tries the next.
 */
import type { RouteConfig } from '../config/types.js';
import { isReason } from '../errors.js';
import type { Reason } from '../errors.js';
import { authorize, trustsIssuer } from '../authz/require.js';
import type { Requirement } from '../authz/require.js';
import type { AuthRequest } from '../authn/types.js';
import type { Identity } from '../identity/types.js';
import type { PipelineContext } from './context.js';
import { extractToken } from './extract-token.js';

/** Token facts for metrics and audit: only from a token that was presented. */
export interface TokenFacts {
  readonly fingerprint: string;
  /** Set only when the token verified. */
  readonly subject?: string;
  readonly jti?: string;
  readonly issuer?: string;
  readonly cached?: boolean;
}

export type Decision =
  | { readonly outcome: 'public'; readonly route: RouteConfig }
  | {
      readonly outcome: 'allowed';
      readonly route: RouteConfig;
      /** Undefined for an anonymous request on an `optional` route. */
      readonly identity: Identity | undefined;
      readonly token?: TokenFacts;
    }
  | {
      readonly outcome: 'denied';
      readonly route: RouteConfig | undefined;
      readonly reason: Reason;
      readonly detail?: string;
      /** The route requirement a valid identity failed (403, or a route-issuer refusal). */
      readonly requirement?: Requirement;
      /** The configured claim path of a `claims` failure. */
      readonly claim?: string;
      /** The `Allow` methods of a `method_not_allowed` denial. */
      readonly allow?: readonly string[];
      readonly identity?: Identity;
      readonly token?: TokenFacts;
    };

/** What a plug-in's thrown error becomes. */
function pluginReason(err: unknown): { reason: Reason; detail: string } {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (isReason(code)) return { reason: code, detail: 'plug-in denied' };
  // A system or undici error (ECONNREFUSED, UND_ERR_*) is the plug-in's backend failing.
  if (typeof code === 'string' && /^(E[A-Z0-9]+|UND_ERR_[A-Z_]+)$/.test(code)) return { reason: 'auth_unavailable', detail: 'plug-in backend failed' };
  if (typeof code === 'string') return { reason: 'invalid_credentials', detail: 'plug-in denied' };
  return { reason: 'internal_error', detail: 'plug-in failed' };
}

/** Not itself async: the decision is decideForRoute's promise, without one more around it. */
export function decide(req: AuthRequest, ctx: PipelineContext): Promise<Decision> {
  const selected = ctx.routes.match(req.host, req.path, req.method);
  if (selected.kind === 'none') return Promise.resolve({ outcome: 'denied', route: undefined, reason: 'not_found' });
  if (selected.kind === 'method') return Promise.resolve({ outcome: 'denied', route: undefined, reason: 'method_not_allowed', allow: selected.allow });
  return decideForRoute(req, ctx, selected.route);
}

/** The stages after route matching; also used by endpoints with a fixed route (userinfo). */
export async function decideForRoute(req: AuthRequest, ctx: PipelineContext, route: RouteConfig): Promise<Decision> {
  if (route.auth === 'public') return { outcome: 'public', route };

  const extracted = extractToken(req.headers, req.query, ctx.tokens);
  let identity: Identity | undefined;
  let token: TokenFacts | undefined;
  let issuerName: string | undefined;

  for (const entry of ctx.chain) {
    if (entry.kind === 'jwt') {
      const result = await entry.jwt.authenticate(extracted.kind === 'token' ? extracted.token : undefined);
      if (result.kind === 'none') continue;
      if (result.kind === 'denied') {
        token = { fingerprint: result.fingerprint };
        return result.detail === undefined
          ? { outcome: 'denied', route, reason: result.reason, token }
          : { outcome: 'denied', route, reason: result.reason, detail: result.detail, token };
      }
      identity = result.identity;
      token = {
        fingerprint: result.fingerprint,
        subject: identity.user,
        ...(typeof identity.claims.jti === 'string' ? { jti: identity.claims.jti } : {}),
        ...(identity.issuer !== undefined ? { issuer: identity.issuer } : {}),
        cached: result.cached,
      };
      issuerName = result.issuerName;
      break;
    }
    try {
      const found = await entry.authenticator.authenticate(req);
      if (found) {
        identity = found;
        break;
      }
    } catch (err) {
      const { reason, detail } = pluginReason(err);
      return { outcome: 'denied', route, reason, detail: `${entry.authenticator.name}: ${detail}` };
    }
  }

  if (!identity) {
    if (extracted.kind === 'bad_scheme') return { outcome: 'denied', route, reason: 'bad_scheme' };
    if (route.auth === 'optional' && extracted.kind === 'none') return { outcome: 'allowed', route, identity: undefined };
    return { outcome: 'denied', route, reason: 'missing_token' };
  }

  if (!trustsIssuer(route, issuerName)) {
    return { outcome: 'denied', route, reason: 'untrusted_issuer', detail: 'issuer not listed on the route', requirement: 'issuer', identity, ...(token ? { token } : {}) };
  }
  const verdict = authorize(identity, route.require);
  if (!verdict.ok) {
    const { reason, detail, requirement } = verdict;
    return { outcome: 'denied', route, reason, detail, requirement, ...(verdict.claim !== undefined ? { claim: verdict.claim } : {}), identity, ...(token ? { token } : {}) };
  }
  return token ? { outcome: 'allowed', route, identity, token } : { outcome: 'allowed', route, identity };
}
