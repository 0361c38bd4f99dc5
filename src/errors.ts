/**
 * The one vocabulary of denial and failure reasons (docs/decisions.md).
 *
 * Every reason is a stable snake_case code used alike in error bodies, metric labels
 * (`reason`) and audit lines. The table maps each one to its HTTP status, the OAuth-style
 * `error` code of the JSON body and a public one-sentence description a person can act on.
 * Descriptions never contain request data: they are safe to send and to log.
 */

export interface ReasonEntry {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  /** Answer with `Retry-After`. */
  readonly retryAfter?: boolean;
}

export const REASONS = {
  // request shape
  invalid_path: {
    status: 400,
    error: 'invalid_request',
    description: 'The request path is not allowed; remove encoded slashes, backslashes, NUL bytes and dot segments above the root.',
  },
  invalid_request: {
    status: 400,
    error: 'invalid_request',
    description: 'The request is malformed; check the method, headers and body against the API documentation.',
  },
  request_timeout: {
    status: 408,
    error: 'request_timeout',
    description: 'The request body stopped arriving; send the whole body without long pauses.',
  },
  payload_too_large: {
    status: 413,
    error: 'invalid_request',
    description: 'The request body is too large; send a smaller body.',
  },
  // credentials
  missing_token: {
    status: 401,
    error: 'unauthorized',
    description: 'Authentication is required; send a bearer token in the Authorization header or log in.',
  },
  bad_scheme: {
    status: 401,
    error: 'invalid_request',
    description: 'The Authorization header is not usable; use the Bearer scheme: "Authorization: Bearer <token>".',
  },
  malformed: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is not a well-formed signed JWT; obtain a new access token.',
  },
  expired: {
    status: 401,
    error: 'invalid_token',
    description: 'The token has expired; obtain a new access token.',
  },
  not_before: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is not valid yet; check the clock of the token issuer or retry later.',
  },
  issued_in_future: {
    status: 401,
    error: 'invalid_token',
    description: 'The token claims to be issued in the future; check the clock of the token issuer.',
  },
  missing_claim: {
    status: 401,
    error: 'invalid_token',
    description: 'The token lacks a required claim (exp, sub or the user claim); obtain an access token from a configured issuer.',
  },
  bad_signature: {
    status: 401,
    error: 'invalid_token',
    description: 'The token signature is invalid; obtain a new access token from a configured issuer.',
  },
  alg_not_allowed: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is signed with an algorithm this issuer does not allow; use a token signed with an allowed algorithm.',
  },
  untrusted_issuer: {
    status: 401,
    error: 'invalid_token',
    description: 'The token was issued by an issuer that is not trusted here; obtain a token from a configured issuer.',
  },
  bad_audience: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is not meant for this audience; request a token for this API.',
  },
  unknown_kid: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is signed with a key the issuer does not publish; obtain a new access token.',
  },
  invalid_credentials: {
    status: 401,
    error: 'invalid_token',
    description: 'The credentials were refused by an authenticator; check them and try again.',
  },
  // policy
  insufficient_scope: {
    status: 403,
    error: 'insufficient_scope',
    description: 'The identity lacks a role, group, scope or claim this route requires; ask for the needed access.',
  },
  forbidden_source: {
    status: 403,
    error: 'forbidden',
    description: 'This endpoint only answers trusted callers; call it through the configured proxy.',
  },
  forbidden_origin: {
    status: 403,
    error: 'forbidden',
    description: 'Cross-site requests are not allowed here; send the request from the application origin.',
  },
  not_found: {
    status: 404,
    error: 'not_found',
    description: 'No route matches this request; check the host and the path.',
  },
  method_not_allowed: {
    status: 405,
    error: 'method_not_allowed',
    description: 'This endpoint does not accept this method; use one of the methods in the Allow header.',
  },
  // login
  invalid_grant: {
    status: 401,
    error: 'invalid_grant',
    description: 'The username or password is wrong; check them and try again.',
  },
  login_cancelled: {
    status: 401,
    error: 'access_denied',
    description: 'The sign-in was cancelled at the identity provider; start it again to continue.',
  },
  rate_limited: {
    status: 429,
    error: 'rate_limited',
    description: 'Too many failed attempts; wait for the time in Retry-After before trying again.',
    retryAfter: true,
  },
  rate_limit_unavailable: {
    status: 503,
    error: 'unavailable',
    description: 'The failed-login counter cannot be reached, so the attempt was not judged; retry shortly.',
    retryAfter: true,
  },
  invalid_redirect: {
    status: 400,
    error: 'invalid_request',
    description: 'The redirect target is not allowed; use a path on this site or an allowed host.',
  },
  invalid_state: {
    status: 400,
    error: 'invalid_request',
    description: 'The login state is missing, expired or does not match; start the login again.',
  },
  // infrastructure
  auth_unavailable: {
    status: 503,
    error: 'auth_unavailable',
    description: 'The identity provider cannot be reached to check credentials; retry later.',
    retryAfter: true,
  },
  upstream_unavailable: {
    status: 502,
    error: 'upstream_unavailable',
    description: 'The upstream service refused or dropped the connection; retry later.',
  },
  upstream_timeout: {
    status: 504,
    error: 'upstream_timeout',
    description: 'The upstream service did not answer in time; retry later.',
  },
  shutting_down: {
    status: 503,
    error: 'unavailable',
    description: 'The sidecar is shutting down; retry on another instance.',
    retryAfter: true,
  },
  internal_error: {
    status: 500,
    error: 'internal_error',
    description: 'The sidecar failed to handle the request; retry, and report it if it persists.',
  },
} as const satisfies Record<string, ReasonEntry>;

export type Reason = keyof typeof REASONS;

/** The reasons a token verification can end with. */
export type TokenReason =
  | 'malformed'
  | 'expired'
  | 'not_before'
  | 'issued_in_future'
  | 'missing_claim'
  | 'bad_signature'
  | 'alg_not_allowed'
  | 'untrusted_issuer'
  | 'bad_audience'
  | 'unknown_kid'
  | 'auth_unavailable';

export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && Object.hasOwn(REASONS, value);
}

