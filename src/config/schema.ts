/**
 * The config file's shape (docs/configuration.md) as one TypeBox schema: the TypeScript type of a validated
 * document and the JSON Schema ajv checks it against. Every object is closed
 * (`additionalProperties: false`) so a misspelt key is an error, never a silently ignored rule;
 * every default lives here and ajv fills it in (`useDefaults`). Checks that span several fields
 * live in `checks.ts`.
 */
import { Type } from '@sinclair/typebox';
import type { Static, TProperties, TSchema } from '@sinclair/typebox';

/** Named `format`s registered with ajv in `validate.ts`. */
export type FormatName = 'duration' | 'listen' | 'header';

/** A closed object; optional sections pass `withDefault = false`, so absent means switched off. */
const closed = <T extends TProperties>(props: T, withDefault = true) =>
  Type.Object(props, { additionalProperties: false, ...(withDefault ? { default: {} } : {}) });
const str = (def?: string) => Type.String({ minLength: 1, ...(def === undefined ? {} : { default: def }) });
const bool = (def: boolean) => Type.Boolean({ default: def });
const int = (def: number, minimum: number, maximum?: number) =>
  Type.Integer({ default: def, minimum, ...(maximum === undefined ? {} : { maximum }) });
const list = <T extends TSchema>(item: T, def?: unknown[]) =>
  Type.Array(item, def === undefined ? { minItems: 1 } : { default: def });
const strings = (def?: string[]) => list(str(), def);
const oneOf = <const T extends string>(values: readonly T[], def?: T) =>
  Type.Unsafe<T>({ type: 'string', enum: values, ...(def === undefined ? {} : { default: def }) });
const duration = (def: string) =>
  Type.Unsafe<string | number>({ type: ['string', 'number'], format: 'duration', minimum: 0, default: def });
const listen = (def: string) => Type.String({ format: 'listen', default: def });

const Claims = closed({
  user: str('sub'),
  email: str('email'),
  username: str('preferred_username'),
  groups: str('groups'),
  roles: strings(['realm_access.roles', 'resource_access.*.roles']),
});

const Issuer = closed(
  {
    name: str(),
    issuer: Type.Optional(str()),
    jwks_uri: Type.Optional(str()),
    audiences: strings([]),
    algorithms: Type.Array(str(), { minItems: 1, default: ['RS256'] }),
    clock_skew: duration('30s'),
    jwks: closed({
      refresh_interval: duration('10m'),
      min_refresh_interval: duration('30s'),
      timeout: duration('5s'),
      max_stale: duration('24h'),
    }),
    claims: Claims,
    secret: Type.Optional(str()),
    /** Allows an `http://` issuer and JWKS URL beyond loopback (in-cluster IdPs). */
    allow_http: bool(false),
  },
  false,
);

/** `jwt` takes no other key, `module` needs `path`; both enforced in `checks.ts`. */
const Authenticator = closed(
  {
    type: oneOf(['jwt', 'module']),
    path: Type.Optional(str()),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  false,
);

/** A route's default connection budget towards its upstream. */
export const DEFAULT_UPSTREAM_CONNECTIONS = 128;

const Route = closed(
  {
    name: str(),
    match: closed({ host: Type.Optional(str()), path: str(), methods: Type.Optional(strings()) }, false),
    upstream: Type.Optional(str()),
    auth: oneOf(['required', 'optional', 'public'], 'required'),
    /** Names of the issuers whose tokens this route takes; absent means every issuer. */
    issuers: Type.Optional(strings()),
    require: Type.Optional(
      closed({
        roles: strings([]),
        groups: strings([]),
        scopes: strings([]),
        claims: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
        email_verified: Type.Optional(Type.Boolean()),
      }, false),
    ),
    forward_token: bool(false),
    strip_prefix: bool(false),
    timeout: duration('60s'),
    /** Most connections this route keeps to its upstream; more requests wait (within `timeout`). */
    upstream_connections: int(DEFAULT_UPSTREAM_CONNECTIONS, 1, 65_536),
  },
  false,
);

const Login = closed(
  {
    client_id: str(),
    client_secret: Type.Optional(str()),
    scopes: strings(['openid', 'profile', 'email']),
    issuer: Type.Optional(str()),
    password: Type.Optional(closed({ path: str('/_auth/login') }, false)),
    browser: Type.Optional(
      closed({
        start_path: str('/_auth/start'),
        callback_path: str('/_auth/callback'),
        logout_path: str('/_auth/logout'),
        post_logout_redirect_uri: Type.Optional(str()),
        allowed_redirect_hosts: strings([]),
      }, false),
    ),
    cookie: closed({
      name: Type.Optional(str()),
      max_age: duration('24h'),
      secure: bool(true),
      same_site: oneOf(['Strict', 'Lax', 'None'], 'Strict'),
      domain: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], minLength: 1 })),
    }),
    cookie_secret: Type.Optional(Type.String()),
    rate_limit: closed({ attempts: int(10, 1), per: duration('1m') }),
  },
  false,
);

/** Client headers always removed before proxying; `strip_headers` adds to them. */
export const DEFAULT_STRIP_HEADERS = [
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-preferred-username',
  'x-forwarded-groups',
  'remote-user',
  'remote-email',
  'remote-groups',
  'remote-name',
  'x-remote-user',
  'x-user',
  'x-email',
];

export const ConfigSchema = Type.Object(
  {
  mode: oneOf(['auto', 'proxy', 'forward_auth'], 'auto'),
  listen: listen('0.0.0.0:8080'),
  admin: closed({ listen: listen('127.0.0.1:9090') }),
  public_url: Type.Optional(str()),
  issuers: Type.Array(Issuer, { default: [] }),
  tokens: closed({
    header: bool(true),
    /** A cookie name, or `false`; `true` is refused in `checks.ts`. */
    cookie: Type.Unsafe<string | boolean>({ type: ['string', 'boolean'], minLength: 1, default: 'access_token' }),
    query: bool(false),
  }),
  authenticators: Type.Array(Authenticator, { minItems: 1, default: [{ type: 'jwt' }] }),
  routes: Type.Array(Route, { default: [] }),
  forward_auth: closed({ path: str('/_auth/verify'), trusted_sources: strings([]), browser_redirect: oneOf(['auto', 'always', 'never'], 'auto') }),
  login: Type.Optional(Login),
  audit: closed({ output: str('stdout'), allowed: bool(true) }),
  metrics: closed({ token_series_limit: int(1000, 0) }),
  cache: closed({ verified_tokens: int(10000, 0) }),
  trust_forwarded_headers: bool(false),
  /** IPs or CIDRs of the proxies in front that may set X-Forwarded-*; checked in `checks.ts`. */
  trusted_proxies: strings([]),
  strip_headers: Type.Array(Type.String({ format: 'header' }), { default: [] }),
  shutdown_timeout: duration('10s'),
  /** After SIGTERM/SIGINT: /readyz is 503 while both listeners keep accepting this long. */
  shutdown_delay: duration('0s'),
  /** A client request body that sends nothing for this long ends with 408. */
  client_body_timeout: duration('30s'),
  workers: int(1, 1, 64),
  },
  { additionalProperties: false },
);

/** A document that passed the schema, with every default filled in. */
export type ConfigDoc = Static<typeof ConfigSchema>;
export type IssuerDoc = ConfigDoc['issuers'][number];
export type RouteDoc = ConfigDoc['routes'][number];
export type LoginDoc = NonNullable<ConfigDoc['login']>;
