/**
 * Public API of the `portcullis` package, for plug-in authors (docs/decisions.md, "Plug-in authenticators"). See
 * `examples/plugins/` for a complete authenticator.
 */
export type { Identity } from './identity/types.js';
export type { Authenticator, AuthenticatorContext, AuthenticatorFactory, AuthRequest } from './authn/types.js';
export { AuthError } from './authn/types.js';
export { REASONS } from './errors.js';
export type { Reason } from './errors.js';
