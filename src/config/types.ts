/**
 * The compiled, immutable runtime configuration (docs/configuration.md). `compile.ts` builds it from a
 * validated document; everything else reads only this shape. Durations are in milliseconds
 * (or seconds where the name says so); optional sections are `undefined` when switched off.
 */

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ClaimPaths {
  /** Dotted claim path of the user id (default `sub`). */
  readonly user: string;
  readonly email: string;
  readonly username: string;
  readonly groups: string;
  /** Dotted paths; `*` matches every key of an object (`resource_access.*.roles`). */
  readonly roles: readonly string[];
}

export interface JwksSettings {
  readonly refreshIntervalMs: number;
  readonly minRefreshIntervalMs: number;
  readonly timeoutMs: number;
  readonly maxStaleMs: number;
}

export interface IssuerConfig {
  readonly name: string;
  /** Expected `iss`; undefined when only `jwks_uri` is configured (see README). */
  readonly issuer: string | undefined;
  /** Explicit JWKS URL; undefined means OIDC discovery at `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri: string | undefined;
  /** Token `aud` must contain one of these; empty means not checked. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSec: number;
  readonly jwks: JwksSettings;
  readonly claims: ClaimPaths;
  /** Shared secret for HS* algorithms (then there is no JWKS). */
  readonly secret: string | undefined;
  /** `allow_http`: an `http://` issuer or JWKS URL is accepted beyond loopback hosts. */
  readonly allowHttp: boolean;
}

export type AuthenticatorConfig =
  | { readonly type: 'jwt' }
  | {
      readonly type: 'module';
      /** Absolute path, resolved against the config file's folder. */
      readonly path: string;
      readonly options: Readonly<Record<string, unknown>>;
    };

export type AuthMode = 'required' | 'optional' | 'public';

export interface RouteRequire {
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
  /** `email_verified: true` required in the token. */
  readonly emailVerified?: boolean;
}

export interface RouteConfig {
  readonly name: string;
  readonly match: {
    /** Lower-cased; `*.example.com` matches real subdomains only. */
    readonly host: string | undefined;
    /** Normalised prefix, no trailing slash except for `/`. */
    readonly path: string;
    /** Upper-cased; undefined means any method. */
    readonly methods: readonly string[] | undefined;
  };
  readonly upstream: string | undefined;
  readonly auth: AuthMode;
  /** Names of the issuers whose tokens the route takes; undefined means every issuer. */
  readonly issuers?: readonly string[] | undefined;
  readonly require: RouteRequire | undefined;
  readonly forwardToken: boolean;
  readonly stripPrefix: boolean;
  readonly timeoutMs: number;
  /** Connection budget of this route towards its upstream (its own pool); `upstream_connections`. */
  readonly upstreamConnections?: number;
}

export interface CookieSettings {
  readonly name: string;
  readonly maxAgeSec: number;
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax' | 'None';
  readonly domain: string | undefined;
}

export interface LoginConfig {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly scopes: readonly string[];
  /** Which issuer (by name) the login talks to; the first one by default. */
  readonly issuer: string;
  readonly password: { readonly path: string } | undefined;
  readonly browser:
    | {
        readonly startPath: string;
        readonly callbackPath: string;
        readonly logoutPath: string;
        /** Where the IdP sends the browser after logout; default public_url + `/`. */
        readonly postLogoutRedirectUri: string | undefined;
        readonly allowedRedirectHosts: readonly string[];
      }
    | undefined;
  readonly cookie: CookieSettings;
  readonly cookieSecret: string | undefined;
  readonly rateLimit: { readonly attempts: number; readonly perMs: number };
}

export interface RuntimeConfig {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /**
   * `proxy` when the main listener proxies to upstreams (every route then needs an upstream),
   * `forward_auth` when it only answers forward-auth. The YAML `mode: auto` (default) means
   * `proxy` if any route names an upstream.
   */
  readonly mode: 'proxy' | 'forward_auth';
  readonly listen: ListenAddress;
  readonly admin: { readonly listen: ListenAddress };
  readonly publicUrl: string | undefined;
  readonly issuers: readonly IssuerConfig[];
  readonly tokens: {
    readonly header: boolean;
    /** Cookie name, or false. */
    readonly cookie: string | false;
    readonly query: boolean;
  };
  readonly authenticators: readonly AuthenticatorConfig[];
  readonly routes: readonly RouteConfig[];
  readonly forwardAuth: {
    readonly path: string;
    /** Client addresses or CIDRs allowed to call it; empty means anyone. */
    readonly trustedSources: readonly string[];
    /**
     * A browser without a valid identity: `always` 302 to the login start, `never` 401, `auto`
     * 302 behind X-Forwarded-* proxies (Traefik, Envoy) and 401 behind nginx (X-Original-*).
     */
    readonly browserRedirect: 'auto' | 'always' | 'never';
  };
  readonly login: LoginConfig | undefined;
  readonly audit: {
    /** `stdout`, `stderr` or an absolute file path. */
    readonly output: string;
    readonly allowed: boolean;
  };
  readonly metrics: { readonly tokenSeriesLimit: number };
  readonly cache: { readonly verifiedTokens: number };
  /** v1 switch: the direct peer is one trusted proxy hop. */
  readonly trustForwardedHeaders: boolean;
  /** IPs and CIDRs of the proxies in front allowed to set X-Forwarded-For/-Proto/-Host. */
  readonly trustedProxies: readonly string[];
  /** Client header names (lower-case) removed before proxying besides `x-auth-request-*`: the built-in list plus `strip_headers`. */
  readonly stripHeaders: readonly string[];
  readonly shutdownTimeoutMs: number;
  /** After SIGTERM/SIGINT, how long both listeners keep accepting while /readyz says 503. */
  readonly shutdownDelayMs: number;
  /** Longest pause in a client request body before the request ends with 408. */
  readonly clientBodyTimeoutMs: number;
  /** Worker processes (node:cluster); 1 means none. */
  readonly workers: number;
}

/** One problem found in a config file, reported as `FILE:LINE:COL path: message`. */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** `routes[2].require.rolez`; empty for the document itself. */
  readonly path: string;
  /** `<problem>; <what to do>` */
  readonly message: string;
}

export type LoadResult =
  | {
      readonly ok: true;
      readonly config: RuntimeConfig;
      /** What `check` reports without refusing the file. */
      readonly warnings?: readonly Problem[];
    }
  | { readonly ok: false; readonly problems: readonly Problem[] };
