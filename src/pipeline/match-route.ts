/**
 * Route selection (docs/configuration.md `routes`, docs/security.md "Headers and paths").
 *
 * Enforces:
 * - hosts compare lower-cased, without port (`[::1]:8080` included) and without one trailing dot;
 *   a route without a host matches every host;
 * - `*.example.com` matches real subdomains only: at least one non-empty label before
 *   `.example.com` (`a.example.com`, `a.b.example.com`), never `example.com`,
 *   `evilexample.com` or `.example.com` (oauth2-proxy CVE-2021-21291);
 * - a path prefix matches on segment boundaries only (`/public` matches `/public`, `/public/`
 *   and `/public/x`, never `/publicity`); `/` matches every path. Prefixes compare without
 *   ASCII letter case (`/admin` judges `/ADMIN/x`: many frameworks serve both as one resource).
 *   Both sides are already normalised (normalize-path.ts), so they are pure ASCII;
 * - host first: the routes whose host matches are tried before the routes without a host; in
 *   each set the longest matching prefix wins, ties go to the route declared first;
 * - methods: a route that lists methods takes only those (upper-cased), `HEAD` with `GET`;
 *   when routes of the winning set and prefix exist but none takes the method, the answer is
 *   `method` with the methods they do take: the request never falls to a shorter prefix.
 * Everything is prepared in `compileRoutes`; `match` only compares strings.
 */

import type { RouteConfig } from '../config/types.js';

/** The route that judges a request, the methods of the routes that would (405), or none (404). */
export type RouteSelection =
  | { readonly kind: 'route'; readonly route: RouteConfig }
  | { readonly kind: 'method'; readonly allow: readonly string[] }
  | { readonly kind: 'none' };

export interface RouteMatcher {
  match(host: string | undefined, path: string, method: string): RouteSelection;
}

/** A host pattern ready for comparison: exact host, or the `.suffix` of a wildcard. */
type HostPattern = { kind: 'any' } | { kind: 'exact'; host: string } | { kind: 'wildcard'; suffix: string };

interface CompiledRoute {
  readonly route: RouteConfig;
  readonly host: HostPattern;
  /** Lower-cased, no trailing slash except for `/`. */
  readonly prefix: string;
  readonly prefixSlash: string;
  readonly methods: ReadonlySet<string> | undefined;
}

/** Subdomain labels in front of a wildcard suffix: non-empty, DNS-ish characters. */
const SUBDOMAIN_LABELS = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** Lower-cases and drops the port and one trailing dot; undefined for an unterminated `[`. */
function normalizeHost(host: string): string | undefined {
  let name = host.toLowerCase();
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close === -1) return undefined;
    name = name.slice(0, close + 1);
  } else {
    const colon = name.indexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function compileHost(pattern: string | undefined): HostPattern {
  if (pattern === undefined) return { kind: 'any' };
  const lower = pattern.toLowerCase();
  const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (name.startsWith('*.')) return { kind: 'wildcard', suffix: name.slice(1) };
  return { kind: 'exact', host: name };
}

function hostFits(pattern: HostPattern, host: string | undefined): boolean {
  if (pattern.kind === 'any') return true;
  if (host === undefined) return false;
  if (pattern.kind === 'exact') return host === pattern.host;
  if (host.length <= pattern.suffix.length || !host.endsWith(pattern.suffix)) return false;
  return SUBDOMAIN_LABELS.test(host.slice(0, host.length - pattern.suffix.length));
}

/** Whether `host` (as sent, port and case allowed) is matched by a route host `pattern`. */
export function hostMatches(pattern: string, host: string): boolean {
  return hostFits(compileHost(pattern), normalizeHost(host));
}

function compileRoute(route: RouteConfig): CompiledRoute {
  const path = route.match.path.toLowerCase();
  const prefix = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return {
    route,
    host: compileHost(route.match.host),
    prefix,
    prefixSlash: prefix === '/' ? '/' : `${prefix}/`,
    methods: route.match.methods && new Set(route.match.methods.map((m) => m.toUpperCase())),
  };
}

function takes(compiled: CompiledRoute, verb: string): boolean {
  const methods = compiled.methods;
  return methods === undefined || methods.has(verb) || (verb === 'HEAD' && methods.has('GET'));
}

/** The methods a set of routes takes, declared order, `HEAD` after `GET`. */
function allowed(routes: readonly CompiledRoute[]): string[] {
  const out = new Set<string>();
  for (const compiled of routes) {
    for (const m of compiled.methods ?? []) {
      out.add(m);
      if (m === 'GET') out.add('HEAD');
    }
  }
  return [...out];
}

function pathFits(compiled: CompiledRoute, path: string): boolean {
  return compiled.prefix === '/' || path === compiled.prefix || path.startsWith(compiled.prefixSlash);
}

/**
 * Selection within one set (longest prefix first, stable: declared order within a length):
 * the first route at the longest fitting prefix that takes the method, else that prefix's
 * methods; undefined when nothing in the set fits the path.
 */
function select(set: readonly CompiledRoute[], host: string | undefined, path: string, verb: string): RouteSelection | undefined {
  let winners: CompiledRoute[] | undefined;
  for (const compiled of set) {
    if (winners !== undefined && compiled.prefix.length < winners[0]!.prefix.length) break;
    if (!pathFits(compiled, path) || !hostFits(compiled.host, host)) continue;
    if (takes(compiled, verb)) return { kind: 'route', route: compiled.route };
    (winners ??= []).push(compiled);
  }
  return winners && { kind: 'method', allow: allowed(winners) };
}

export function compileRoutes(routes: readonly RouteConfig[]): RouteMatcher {
  // Array.prototype.sort is stable: equal prefix lengths keep their declared order.
  const ordered = routes.map(compileRoute).sort((a, b) => b.prefix.length - a.prefix.length);
  const hostBound = ordered.filter((c) => c.host.kind !== 'any');
  const hostless = ordered.filter((c) => c.host.kind === 'any');
  return {
    match(host, path, method) {
      const name = host === undefined ? undefined : normalizeHost(host);
      const lowered = path.toLowerCase();
      const verb = method.toUpperCase();
      return select(hostBound, name, lowered, verb) ?? select(hostless, name, lowered, verb) ?? { kind: 'none' };
    },
  };
}
