/**
 * Route selection (SPEC §3 `routes`, SECURITY.md "Headers and paths").
 *
 * Enforces:
 * - hosts compare lower-cased, without port (`[::1]:8080` included) and without one trailing dot;
 *   a route without a host matches every host;
 * - `*.example.com` matches real subdomains only: at least one non-empty label before
 *   `.example.com` (`a.example.com`, `a.b.example.com`), never `example.com`,
 *   `evilexample.com` or `.example.com` (oauth2-proxy CVE-2021-21291);
 * - a path prefix matches on segment boundaries only (`/public` matches `/public`, `/public/`
 *   and `/public/x`, never `/publicity`); `/` matches every path. The path must already be
 *   normalised (normalize-path.ts);
 * - when a route lists methods, the method (upper-cased) must be one of them;
 * - the longest matching path prefix wins, ties go to the route declared first; a host does
 *   not make a route win over a longer path.
 * Everything is prepared in `compileRoutes`; `match` only compares strings.
 */

import type { RouteConfig } from '../config/types.js';

export interface RouteMatcher {
  match(host: string | undefined, path: string, method: string): RouteConfig | undefined;
}

/** A host pattern ready for comparison: exact host, or the `.suffix` of a wildcard. */
type HostPattern = { kind: 'any' } | { kind: 'exact'; host: string } | { kind: 'wildcard'; suffix: string };

interface CompiledRoute {
  readonly route: RouteConfig;
  readonly host: HostPattern;
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
  const path = route.match.path;
  const prefix = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return {
    route,
    host: compileHost(route.match.host),
    prefix,
    prefixSlash: prefix === '/' ? '/' : `${prefix}/`,
    methods: route.match.methods && new Set(route.match.methods.map((m) => m.toUpperCase())),
  };
}

function pathFits(compiled: CompiledRoute, path: string): boolean {
  return compiled.prefix === '/' || path === compiled.prefix || path.startsWith(compiled.prefixSlash);
}

export function compileRoutes(routes: readonly RouteConfig[]): RouteMatcher {
  // Array.prototype.sort is stable: equal prefix lengths keep their declared order.
  const ordered = routes.map(compileRoute).sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    match(host, path, method) {
      const name = host === undefined ? undefined : normalizeHost(host);
      const verb = method.toUpperCase();
      for (const compiled of ordered) {
        if (!pathFits(compiled, path)) continue;
        if (compiled.methods !== undefined && !compiled.methods.has(verb)) continue;
        if (!hostFits(compiled.host, name)) continue;
        return compiled.route;
      }
      return undefined;
    },
  };
}
