/**
 * What the decision pipeline reads, and nothing more: the compiled routes, the ordered
 * authenticator chain and the token settings (where a credential may be presented). A runtime
 * state builds one per config; tests build one by hand.
 */
import type { RuntimeConfig } from '../config/types.js';
import type { JwtAuthenticator } from '../authn/jwt.js';
import type { Authenticator } from '../authn/types.js';
import type { RouteMatcher } from './match-route.js';

export type ChainEntry =
  | { readonly kind: 'jwt'; readonly jwt: JwtAuthenticator }
  | { readonly kind: 'plugin'; readonly authenticator: Authenticator };

export interface PipelineContext {
  readonly routes: RouteMatcher;
  readonly chain: readonly ChainEntry[];
  readonly tokens: RuntimeConfig['tokens'];
}
