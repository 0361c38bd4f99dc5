/**
 * The header policy towards an upstream: the header set an upstream receives, and the identity
 * headers (also answered by forward-auth). See docs/security.md, "Headers and paths".
 *
 * Enforces, on a new object built from the client's headers (never mutating them):
 * - hop-by-hop headers and every header the client's `Connection` names are dropped
 *   (hop-by-hop.ts; `host` and `content-length` survive being named);
 *   a WebSocket upgrade gets `connection: upgrade` and `upgrade: websocket` back;
 * - a chunked client body is re-framed as `transfer-encoding: chunked`: Node hands the proxy the
 *   decoded body, and without framing a GET body would reach the upstream as a second request;
 * - `expect` is dropped (http-proxy skips `proxyReq` for it, node-http-proxy#1219);
 * - client identity headers are dropped by normalised name (lower-case, `_` read as `-`,
 *   oauth2-proxy CVE-2025-64484): every `x-auth-request-*` and the configured `stripHeaders`;
 * - client `x-forwarded-*`, `forwarded` and `x-real-ip` are replaced by portcullis' own view
 *   (with `trustForwarded`, the client's X-Forwarded-For/Proto/Host are extended or kept);
 * - headers that could steer an upstream's routing or method (`x-original-uri`, method
 *   overrides, ...) are dropped, and `x-request-id` is portcullis' own;
 * - the client's own `authorization` and portcullis' cookies (own-credentials.ts) never reach
 *   the upstream, on every route; with
 *   `forwardToken` the upstream gets `authorization: Bearer <the verified token>` only, so an
 *   unverified credential sent beside a valid one is never passed on;
 * - identity values that could inject a header (CR, LF, NUL, other controls) are dropped and
 *   non-ASCII values are sent as their UTF-8 bytes, so setting a header never throws.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { firstListItem, joinedHeader } from '../http/header-values.js';
import { withoutOwnCookies } from '../identity/own-credentials.js';
import { perIdentity } from '../identity/per-identity.js';
import type { Identity } from '../identity/types.js';
import { HOP_BY_HOP, connectionTokens, normalizeHeaderName } from './hop-by-hop.js';

export const IDENTITY_HEADERS = {
  user: 'x-auth-request-user',
  email: 'x-auth-request-email',
  username: 'x-auth-request-preferred-username',
  groups: 'x-auth-request-groups',
  roles: 'x-auth-request-roles',
  accessToken: 'x-auth-request-access-token',
} as const;

const IDENTITY_PREFIX = 'x-auth-request-';

/** Dropped always: they must not steer the upstream, or portcullis sets its own. */
const DROPPED = new Set([
  'expect', 'forwarded', 'x-real-ip', 'x-request-id', 'x-original-uri', 'x-original-url',
  'x-original-method', 'x-rewrite-url', 'x-http-method-override', 'x-http-method', 'x-method-override',
]);

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** A header-safe value, or undefined when the value is empty or holds control characters. */
function headerValue(value: string): string | undefined {
  if (value === '') return undefined;
  let ascii = true;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (isControl(code)) return undefined;
    if (code > 0x7e) ascii = false;
  }
  // Node writes header strings as latin1 and throws on anything above U+00FF; UTF-8 bytes are
  // what other proxies (oauth2-proxy) put on the wire for the same value.
  return ascii ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/** Comma-joined list; an entry holding a comma is dropped, as the upstream would split it. */
function listValue(values: readonly string[]): string | undefined {
  const safe = values.map(headerValue).filter((v): v is string => v !== undefined && !v.includes(','));
  return safe.length > 0 ? safe.join(',') : undefined;
}

/** The identity headers for an identity; empty and unsafe values are left out. */
export function identityHeaders(
  identity: Identity,
  opts: { forwardToken: boolean; tokenHeader: 'authorization' | 'x-auth-request-access-token' },
): Record<string, string> {
  const token = opts.forwardToken && identity.token !== undefined ? headerValue(identity.token) : undefined;
  const entries: [string, string | undefined][] = [
    [IDENTITY_HEADERS.user, headerValue(identity.user)],
    [IDENTITY_HEADERS.email, identity.email === undefined ? undefined : headerValue(identity.email)],
    [IDENTITY_HEADERS.username, identity.username === undefined ? undefined : headerValue(identity.username)],
    [IDENTITY_HEADERS.groups, listValue(identity.groups)],
    [IDENTITY_HEADERS.roles, listValue(identity.roles)],
    opts.tokenHeader === 'authorization'
      ? ['authorization', token === undefined ? undefined : `Bearer ${token}`]
      : [IDENTITY_HEADERS.accessToken, token],
  ];
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) if (value !== undefined) headers[name] = value;
  return headers;
}

/** The identity headers towards an upstream (`authorization` carries the token), built once per identity. */
export const upstreamIdentityHeaders = perIdentity((identity, forwardToken): Readonly<Record<string, string>> =>
  Object.freeze(identityHeaders(identity, { forwardToken, tokenHeader: 'authorization' })),
);

/** What one config decides about upstream headers, compiled once per config. */
export interface HeaderPolicy {
  readonly cookieName: string | false;
  /** Extra names to strip (e.g. `remote-user`), normalised. */
  readonly stripHeaders: ReadonlySet<string>;
  /**
   * Every normalised name a client header is dropped by: hop-by-hop, the steering names above,
   * `authorization` and `stripHeaders`: one look-up per header.
   */
  readonly dropped: ReadonlySet<string>;
}

export function compileHeaderPolicy(config: { cookieName: string | false; stripHeaders: readonly string[] }): HeaderPolicy {
  const stripHeaders = new Set(config.stripHeaders.map(normalizeHeaderName));
  const dropped = new Set([...HOP_BY_HOP, ...DROPPED, 'authorization', ...stripHeaders]);
  return Object.freeze({ cookieName: config.cookieName, stripHeaders, dropped });
}

export interface UpstreamHeaderOptions {
  readonly policy: HeaderPolicy;
  readonly identity: Identity | undefined;
  readonly forwardToken: boolean;
  /** The TCP peer is a trusted proxy: its X-Forwarded-* chain is kept and extended. */
  readonly trustForwarded: boolean;
  /** The TCP peer's address, appended to X-Forwarded-For. */
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  readonly host: string | undefined;
  readonly requestId: string;
  readonly upgrade: boolean;
}

/** The headers to send upstream for one request (one pass over `incoming`, left untouched). */
export function buildUpstreamHeaders(incoming: IncomingHttpHeaders, opts: UpstreamHeaderOptions): OutgoingHttpHeaders {
  const named = connectionTokens(incoming.connection);
  const dropped = opts.policy.dropped;
  const chunked = incoming['transfer-encoding'] !== undefined;
  // No prototype: a client header called `__proto__` stays a plain (dropped or copied) entry.
  const out = Object.create(null) as OutgoingHttpHeaders;
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const key = lower.includes('_') ? lower.replaceAll('_', '-') : lower;
    const drop =
      dropped.has(key) ||
      key.startsWith(IDENTITY_PREFIX) ||
      key.startsWith('x-forwarded-') ||
      (named.length !== 0 && named.includes(key)) ||
      // A chunked body is re-framed below; a length beside it would contradict the framing.
      (chunked && lower === 'content-length');
    if (!drop) out[lower] = value;
  }
  if (chunked) out['transfer-encoding'] = 'chunked';
  if (opts.upgrade && incoming.upgrade?.trim().toLowerCase() === 'websocket') {
    out.connection = 'upgrade';
    out.upgrade = 'websocket';
  }
  const trusted = opts.trustForwarded;
  const clientFor = trusted ? joinedHeader(incoming['x-forwarded-for'])?.trim() : undefined;
  const clientProto = trusted ? firstListItem(incoming['x-forwarded-proto'])?.toLowerCase() : undefined;
  const host = (trusted ? firstListItem(incoming['x-forwarded-host']) : undefined) ?? opts.host;
  out['x-forwarded-for'] = clientFor ? `${clientFor}, ${opts.clientIp}` : opts.clientIp;
  out['x-forwarded-proto'] = clientProto === 'http' || clientProto === 'https' ? clientProto : opts.proto;
  if (host !== undefined) out['x-forwarded-host'] = host;
  out['x-request-id'] = opts.requestId;
  const cookie = out.cookie;
  if (typeof cookie === 'string') {
    const rest = withoutOwnCookies(cookie, opts.policy.cookieName);
    if (rest === undefined) delete out.cookie;
    else out.cookie = rest;
  }
  if (opts.identity !== undefined) Object.assign(out, upstreamIdentityHeaders(opts.identity, opts.forwardToken));
  return out;
}
