/**
 * Talking to the login issuer: its OIDC discovery metadata, its token endpoint and its
 * revocation endpoint (RFC 7009, same client authentication as the token endpoint; any answer
 * but 200 is a failure the caller logs).
 *
 * Enforces: the discovery document's `issuer` equals the configured one exactly (OIDC
 * Discovery §4.3) and its endpoints are absolute https URLs (http only for loopback IdPs, or
 * for any host when the issuer sets `allow_http`, as its JWKS URL);
 * every token request is a form POST through undici with one TOTAL deadline (the issuer's JWKS
 * timeout), a 1 MiB cap on the answer and no redirect followed; client authentication is
 * `client_secret_basic` with the id and secret form-urlencoded first (RFC 6749 §2.3.1) when a
 * secret is configured, else `client_id` in the body. Answers are classified once, here:
 * success needs a string `access_token` of type Bearer; `invalid_grant` at 400/401 is the
 * user's failure; network failures, timeouts, 5xx and unparseable answers are `unavailable`;
 * any other OAuth error (invalid_client, unauthorized_client, ...) is `rejected` with its code
 * (sanitised to `[a-z_]`, for the operational log). Nothing here ever returns or logs the
 * request or response body.
 */
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { LoginConfig } from '../config/types.js';
import { isAllowedKeyUrl } from '../util/url-policy.js';
import { discoveryUrl } from '../verify/discovery.js';
import { getJson, MAX_BODY_BYTES } from '../verify/http-get.js';

export interface IdpMetadata {
  readonly tokenEndpoint: string;
  readonly authorizationEndpoint: string | undefined;
  readonly endSessionEndpoint: string | undefined;
  readonly revocationEndpoint: string | undefined;
}

export type MetadataResult = { readonly ok: true; readonly meta: IdpMetadata } | { readonly ok: false; readonly code: string };

export interface TokenSet {
  readonly accessToken: string;
  readonly expiresIn: number | undefined;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
}

export type TokenResult =
  | { readonly ok: true; readonly tokens: TokenSet }
  | { readonly ok: false; readonly kind: 'invalid_grant' | 'unavailable' | 'rejected'; readonly code: string };

export async function fetchMetadata(
  issuer: string | undefined,
  timeoutMs: number,
  allowHttp: boolean,
  dispatcher?: Dispatcher,
): Promise<MetadataResult> {
  const endpoint = (value: unknown): string | undefined => (typeof value === 'string' && isAllowedKeyUrl(value, allowHttp) ? value : undefined);
  if (issuer === undefined) return { ok: false, code: 'issuer_not_configured' };
  const got = await getJson(discoveryUrl(issuer), timeoutMs, { dispatcher });
  if (!got.ok) return { ok: false, code: 'discovery_unreachable' };
  const doc = got.value;
  if (typeof doc !== 'object' || doc === null) return { ok: false, code: 'discovery_invalid' };
  const fields = doc as Record<string, unknown>;
  if (fields.issuer !== issuer) return { ok: false, code: 'discovery_issuer_mismatch' };
  const tokenEndpoint = endpoint(fields.token_endpoint);
  if (tokenEndpoint === undefined) return { ok: false, code: 'discovery_no_token_endpoint' };
  return {
    ok: true,
    meta: {
      tokenEndpoint,
      authorizationEndpoint: endpoint(fields.authorization_endpoint),
      endSessionEndpoint: endpoint(fields.end_session_endpoint),
      revocationEndpoint: endpoint(fields.revocation_endpoint),
    },
  };
}

const formEncode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');

function clientAuth(login: LoginConfig, body: URLSearchParams): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (login.clientSecret === undefined) {
    body.set('client_id', login.clientId);
  } else {
    const basic = `${formEncode(login.clientId)}:${formEncode(login.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic, 'utf8').toString('base64')}`;
  }
  return headers;
}

const UNAVAILABLE = (code: string): TokenResult => ({ ok: false, kind: 'unavailable', code });

function oauthCode(value: unknown): string {
  const code = typeof value === 'object' && value !== null ? (value as { error?: unknown }).error : undefined;
  return typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : 'unknown';
}

async function readJson(body: Dispatcher.ResponseData['body']): Promise<unknown> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > MAX_BODY_BYTES) {
      body.on('error', () => undefined);
      body.destroy();
      return undefined;
    }
    chunks.push(buf);
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))) as unknown;
  } catch {
    return undefined;
  }
}

function tokenSet(value: unknown): TokenSet | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.access_token !== 'string' || v.access_token === '') return undefined;
  if (typeof v.token_type !== 'string' || v.token_type.toLowerCase() !== 'bearer') return undefined;
  const expiresIn = typeof v.expires_in === 'number' && Number.isFinite(v.expires_in) && v.expires_in > 0 ? Math.floor(v.expires_in) : undefined;
  return {
    accessToken: v.access_token,
    expiresIn,
    refreshToken: typeof v.refresh_token === 'string' && v.refresh_token !== '' ? v.refresh_token : undefined,
    idToken: typeof v.id_token === 'string' && v.id_token !== '' ? v.id_token : undefined,
  };
}

/** A client-authenticated form POST with one total deadline, no redirect followed. */
async function postForm(
  url: string,
  login: LoginConfig,
  params: Readonly<Record<string, string>>,
  timeoutMs: number,
  dispatcher: Dispatcher | undefined,
): Promise<{ readonly status: number; readonly json: unknown } | { readonly failed: string }> {
  const body = new URLSearchParams(params);
  const headers = clientAuth(login, body);
  const signal = AbortSignal.timeout(timeoutMs);
  const options = {
    method: 'POST' as const,
    headers,
    body: body.toString(),
    signal,
    maxRedirections: 0,
    ...(dispatcher === undefined ? {} : { dispatcher }),
  };
  try {
    const res = await request(url, options);
    return { status: res.statusCode, json: await readJson(res.body) };
  } catch {
    return { failed: signal.aborted ? 'timeout' : 'network_error' };
  }
}

/** One grant at the token endpoint (`params` holds grant_type and the grant's own fields). */
export async function tokenRequest(
  meta: IdpMetadata,
  login: LoginConfig,
  params: Readonly<Record<string, string>>,
  timeoutMs: number,
  dispatcher?: Dispatcher,
): Promise<TokenResult> {
  const res = await postForm(meta.tokenEndpoint, login, params, timeoutMs, dispatcher);
  if ('failed' in res) return UNAVAILABLE(res.failed);
  const { status, json } = res;
  if (status === 200) {
    const tokens = tokenSet(json);
    return tokens === undefined ? UNAVAILABLE('invalid_token_response') : { ok: true, tokens };
  }
  const code = oauthCode(json);
  if ((status === 400 || status === 401) && code === 'invalid_grant') return { ok: false, kind: 'invalid_grant', code };
  if (status >= 500 || json === undefined) return UNAVAILABLE(`http_${status}`);
  return { ok: false, kind: 'rejected', code };
}

/** RFC 7009 revocation of a refresh token; undefined on success, else a fixed code to log. */
export async function revokeRefreshToken(
  endpointUrl: string,
  login: LoginConfig,
  refreshToken: string,
  timeoutMs: number,
  dispatcher?: Dispatcher,
): Promise<string | undefined> {
  const res = await postForm(endpointUrl, login, { token: refreshToken, token_type_hint: 'refresh_token' }, timeoutMs, dispatcher);
  if ('failed' in res) return `revocation_${res.failed}`;
  return res.status === 200 ? undefined : `revocation_http_${res.status}`;
}
