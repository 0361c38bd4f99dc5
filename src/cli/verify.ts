/**
 * `portcullis verify -c FILE [--path P [--method M] [--host H]] [TOKEN|-]`: verifies one token
 * exactly as `serve` would (same key stores, same checks) and prints the verdict as JSON on
 * stdout. With `--path`, the request `M H P` (method GET by default) is judged as `serve`
 * judges it: route selection (404, 405), the route's issuers and requirements, the
 * authenticator chain; the JSON then names the route. A denial also carries `detail`, what
 * was found and what was expected (`aud: ["account"], expected one of ["api"]`), repeated on
 * stderr. Exit 0 allowed (or public), 1 denied or invalid config, 2 usage, 3 when the keys
 * could not be loaded (the IdP is unreachable). The token itself is never printed.
 */
import { text } from 'node:stream/consumers';
import type { IncomingHttpHeaders } from 'node:http';
import { decodeJwt } from 'jose';
import { formatProblem, loadConfigFile } from '../config/index.js';
import type { RouteConfig, RuntimeConfig } from '../config/types.js';
import { normalizeTarget } from '../util/normalize-path.js';
import { identityFromClaims } from '../identity/claims.js';
import type { Identity } from '../identity/types.js';
import { decide } from '../pipeline/decide.js';
import type { Decision } from '../pipeline/decide.js';
import { buildState, buildVerification } from '../state/runtime-state.js';
import type { KeyStoreEvents } from '../verify/types.js';
import { explainDenial } from './explain.js';
import type { Denial } from './explain.js';

export interface VerifyRequest {
  readonly path?: string;
  readonly method?: string;
  readonly host?: string;
}

/** Exit status when the issuer's keys could not be loaded: the verdict is not a judgement. */
export const EXIT_UNREACHABLE = 3;

async function readToken(arg: string | undefined): Promise<string | undefined> {
  if (arg === '-') return (await text(process.stdin)).trim();
  return arg?.trim();
}

function unverifiedClaims(token: string): Record<string, unknown> | null {
  try {
    return decodeJwt(token);
  } catch {
    return null;
  }
}

function usage(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}

/** Records why keys failed to load, per issuer, for the `auth_unavailable` detail. */
function keyFailureLog(): { events: KeyStoreEvents; failures: Map<string, string> } {
  const failures = new Map<string, string>();
  return {
    failures,
    events: {
      onRefresh(e) {
        if (e.result === 'ok') failures.delete(e.issuer);
        else failures.set(e.issuer, e.detail ?? 'error');
      },
    },
  };
}

/** Where `serve` would find the token: the Authorization header, else the cookie, else the query. */
function carrying(token: string, config: RuntimeConfig, host: string | undefined): { headers: IncomingHttpHeaders; query: string } {
  const headers: IncomingHttpHeaders = host === undefined ? {} : { host };
  if (config.tokens.header) return { headers: { ...headers, authorization: `Bearer ${token}` }, query: '' };
  if (config.tokens.cookie !== false) return { headers: { ...headers, cookie: `${config.tokens.cookie}=${token}` }, query: '' };
  return { headers, query: `?access_token=${encodeURIComponent(token)}` };
}

function routeView(route: RouteConfig | undefined): Record<string, unknown> | null {
  return route === undefined ? null : { name: route.name, auth: route.auth, upstream: route.upstream ?? null };
}

/** The identity as the upstream would learn it; never its `token`. */
function identityView(id: Identity): Record<string, unknown> {
  return { user: id.user, email: id.email ?? null, username: id.username ?? null, groups: id.groups, roles: id.roles, issuer: id.issuer ?? null, exp: id.exp ?? null };
}

function print(out: NodeJS.WritableStream, verdict: Record<string, unknown>): void {
  out.write(`${JSON.stringify(verdict, null, 2)}\n`);
}

function denied(out: NodeJS.WritableStream, token: string, config: RuntimeConfig, denial: Denial, extra: Record<string, unknown>): number {
  const detail = explainDenial(token, config, denial);
  print(out, {
    decision: 'denied',
    reason: denial.reason,
    detail,
    ...(denial.requirement !== undefined ? { requirement: denial.requirement } : {}),
    ...extra,
    unverified_claims: unverifiedClaims(token),
  });
  process.stderr.write(`denied: ${denial.reason}: ${detail}\n`);
  return denial.reason === 'auth_unavailable' ? EXIT_UNREACHABLE : 1;
}

/** The token alone, against the issuers (no route). */
async function verifyToken(token: string, config: RuntimeConfig, out: NodeJS.WritableStream): Promise<number> {
  const log = keyFailureLog();
  const { stores, verifier } = buildVerification(config.issuers, 1, log.events);
  try {
    await Promise.all([...stores.values()].map((s) => s.start()));
    const result = await verifier.verify(token);
    if (!result.ok) {
      const denial: Denial = { reason: result.reason, keyFailures: log.failures, ...(result.detail !== undefined ? { detail: result.detail } : {}) };
      return denied(out, token, config, denial, {});
    }
    const issuer = config.issuers.find((i) => i.name === result.token.issuer);
    const claims = result.token.claims;
    const identity = issuer ? identityFromClaims(claims, issuer.claims, issuer.issuer) : undefined;
    print(out, { decision: 'allowed', reason: null, issuer: result.token.issuer, claims, identity });
    return 0;
  } finally {
    for (const store of stores.values()) store.close();
  }
}

/** The request `method host path` carrying the token, judged by the decision pipeline. */
async function verifyRequest(token: string, config: RuntimeConfig, req: VerifyRequest & { path: string }, out: NodeJS.WritableStream): Promise<number> {
  const method = (req.method ?? 'GET').toUpperCase();
  const request = { method, host: req.host ?? '', path: req.path };
  const target = normalizeTarget(req.path);
  if (!target.ok) return denied(out, token, config, { reason: 'invalid_path', keyFailures: new Map() }, { request, route: null });
  const log = keyFailureLog();
  const state = await buildState(config, { events: log.events });
  try {
    const carried = carrying(token, config, req.host);
    const decision: Decision = await decide(
      { method, host: req.host ?? '', path: target.path, query: carried.query || target.query, headers: carried.headers, clientIp: '127.0.0.1', requestId: 'verify' },
      state.pipeline,
    );
    const judged = { request: { ...request, path: target.path }, route: routeView(decision.route) };
    if (decision.outcome === 'denied') {
      const denial: Denial = {
        reason: decision.reason,
        keyFailures: log.failures,
        ...(decision.requirement !== undefined ? { requirement: decision.requirement } : {}),
        ...(decision.claim !== undefined ? { claim: decision.claim } : {}),
        ...(decision.route !== undefined ? { route: decision.route } : {}),
        ...(decision.identity !== undefined ? { identity: decision.identity } : {}),
        ...(decision.allow !== undefined ? { allow: decision.allow } : {}),
        ...(decision.detail !== undefined ? { detail: decision.detail } : {}),
      };
      return denied(out, token, config, denial, judged);
    }
    const identity = decision.outcome === 'allowed' ? decision.identity : undefined;
    print(out, { decision: decision.outcome, reason: null, ...judged, ...(identity ? { issuer: identity.issuer ?? null, claims: identity.claims, identity: identityView(identity) } : {}) });
    return 0;
  } finally {
    await state.close();
  }
}

export async function runVerify(file: string, tokenArg: string | undefined, req: VerifyRequest = {}, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (req.path === undefined && (req.method !== undefined || req.host !== undefined)) return usage('--method and --host judge a request: add --path');
  if (req.path !== undefined && !req.path.startsWith('/')) return usage('--path must start with "/"');
  if (req.method !== undefined && !/^[A-Za-z]+$/.test(req.method)) return usage('--method must be an HTTP method, e.g. GET');
  const token = await readToken(tokenArg);
  if (!token) return usage('no token; pass it as an argument or "-" to read standard input');
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return 1;
  }
  const { path } = req;
  return path === undefined ? verifyToken(token, loaded.config, out) : verifyRequest(token, loaded.config, { ...req, path }, out);
}
