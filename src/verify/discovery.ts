/**
 * Where an issuer's keys come from: OIDC discovery and the JWKS download.
 *
 * Enforces: the discovery document's `issuer` equals the configured one exactly (OIDC
 * Discovery §4.3); its `jwks_uri` is an absolute https URL (http only for loopback hosts, or
 * for any host when the issuer sets `allow_http`);
 * both downloads go through the bounded GET; a key set without one usable signing key is a
 * failure, so a broken document never replaces good keys. Also the `check --online` probe.
 */
import { isAllowedKeyUrl } from '../util/url-policy.js';
import type { IssuerConfig } from '../config/types.js';
import { getJson } from './http-get.js';
import type { GetDeps } from './http-get.js';
import { isObject } from '../util/object.js';
import { importJwks } from './jwk.js';
import type { StoredKey } from './jwk.js';

export type LoadStage = 'discovery' | 'jwks';

export type LoadResult =
  | { readonly ok: true; readonly keys: readonly StoredKey[]; readonly jwksUri: string }
  | { readonly ok: false; readonly stage: LoadStage; readonly url: string; readonly detail: string };

const HINTS: Readonly<Record<LoadStage, string>> = {
  discovery: 'check that issuer is exactly the IdP issuer URL and that the IdP is reachable, or set jwks_uri',
  jwks: 'check jwks_uri and that the IdP is reachable and publishes signing keys',
};

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

export async function discoverJwksUri(
  issuer: string,
  timeoutMs: number,
  deps: GetDeps = {},
  allowHttp = false,
): Promise<{ ok: true; jwksUri: string } | { ok: false; detail: string }> {
  const got = await getJson(discoveryUrl(issuer), timeoutMs, deps);
  if (!got.ok) return got;
  if (!isObject(got.value)) return { ok: false, detail: 'not a JSON object' };
  if (got.value.issuer !== issuer) return { ok: false, detail: 'issuer mismatch' };
  const jwksUri = got.value.jwks_uri;
  if (typeof jwksUri !== 'string' || !isAllowedKeyUrl(jwksUri, allowHttp)) return { ok: false, detail: 'jwks_uri not an https URL' };
  return { ok: true, jwksUri };
}

/**
 * One load: discovery unless a JWKS URL is known (configured or discovered before), then the
 * JWKS itself.
 */
export async function loadKeySet(issuer: IssuerConfig, knownJwksUri: string | undefined, deps: GetDeps = {}): Promise<LoadResult> {
  const { timeoutMs } = issuer.jwks;
  let jwksUri = knownJwksUri ?? issuer.jwksUri;
  if (jwksUri === undefined) {
    // Config validation guarantees `issuer` whenever `jwks_uri` is absent.
    const issuerUrl = issuer.issuer ?? '';
    const found = await discoverJwksUri(issuerUrl, timeoutMs, deps, issuer.allowHttp);
    if (!found.ok) return { ok: false, stage: 'discovery', url: discoveryUrl(issuerUrl), detail: found.detail };
    jwksUri = found.jwksUri;
  }
  const got = await getJson(jwksUri, timeoutMs, deps);
  if (!got.ok) return { ok: false, stage: 'jwks', url: jwksUri, detail: got.detail };
  const imported = importJwks(got.value);
  if (!imported.ok) return { ok: false, stage: 'jwks', url: jwksUri, detail: imported.detail };
  if (imported.keys.length === 0) return { ok: false, stage: 'jwks', url: jwksUri, detail: 'no usable signing keys' };
  return { ok: true, keys: imported.keys, jwksUri };
}

/**
 * For `portcullis check --online`: [] when the issuer's keys load, else one line per problem,
 * `<stage>: <detail> from <url>; <what to do>`.
 */
export async function checkIssuerOnline(issuer: IssuerConfig, deps: GetDeps = {}): Promise<string[]> {
  if (issuer.secret !== undefined) return [];
  const loaded = await loadKeySet(issuer, undefined, deps);
  if (loaded.ok) return [];
  return [`${loaded.stage}: ${loaded.detail} from ${printable(loaded.url)}; ${HINTS[loaded.stage]}`];
}

/** A URL without userinfo and query: either may carry a credential. */
function printable(url: string): string {
  if (!URL.canParse(url)) return '(invalid URL)';
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
