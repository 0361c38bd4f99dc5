/**
 * The authenticator contract (docs/decisions.md). Authenticators are tried in the configured order:
 * the first that returns an identity wins; `null` means "not mine, try the next"; a thrown
 * error denies the request with its `code` when that is a known reason code, otherwise
 * `invalid_credentials`. Errors are recognised by their `code` property, not by `instanceof`,
 * so a plug-in may bundle its own copy of this package.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from '../identity/types.js';

/** What an authenticator sees of a request: already normalised, read-only. */
export interface AuthRequest {
  readonly method: string;
  readonly host: string;
  /** Normalised path, without the query string. */
  readonly path: string;
  /** Query string, '' or starting with '?'. */
  readonly query: string;
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly clientIp: string;
  readonly requestId: string;
}

export interface Authenticator {
  readonly name: string;
  authenticate(request: AuthRequest): Promise<Identity | null>;
  /** Called when the runtime that owns it is replaced (reload) or stopped. */
  close?(): void | Promise<void>;
}

/** What a plug-in module's default export (or its `createAuthenticator` export) is. */
export type AuthenticatorFactory = (
  options: Readonly<Record<string, unknown>>,
  context: AuthenticatorContext,
) => Authenticator | Promise<Authenticator>;

export interface AuthenticatorContext {
  /** Folder of the config file, to resolve relative paths in options. */
  readonly configDir: string;
  /** Operational log line for the plug-in (JSON on stderr); never pass secrets. */
  log(message: string, fields?: Record<string, string | number | boolean>): void;
}

/**
 * Throw this (or any error with a `code` that is a portcullis reason) to deny a request.
 *
 * @example
 * throw new AuthError('invalid_credentials', 'unknown API key');
 */
export class AuthError extends Error {
  readonly code: string;
  constructor(code: string, message?: string) {
    super(message ?? code);
    this.name = 'AuthError';
    this.code = code;
  }
}
