/**
 * The one routes config every differential run puts portcullis in front of its app with, the
 * handler each app area stands for, and the invariant: the handler that served a request is
 * one the route that judged it covers.
 *
 * The shapes are the risky ones: a host-bound strict route for the whole admin host beside
 * longer host-less routes, a role-bound `/admin`, a `/reports` limited to GET, a `/api/internal`
 * that needs any login, a public `/public`, and a weaker (optional) catch-all.
 */

export type Auth = 'required' | 'optional' | 'public';

export interface RouteSpec {
  readonly name: string;
  readonly host?: string;
  readonly path: string;
  readonly methods?: readonly string[];
  readonly auth: Auth;
  readonly roles?: readonly string[];
}

export const ADMIN_HOST = 'admin.example.test';

export const ROUTES: readonly RouteSpec[] = [
  { name: 'host-admin', host: ADMIN_HOST, path: '/', auth: 'required', roles: ['admin'] },
  { name: 'admin', path: '/admin', auth: 'required', roles: ['admin'] },
  { name: 'reports', path: '/reports', methods: ['GET'], auth: 'required', roles: ['analyst'] },
  { name: 'internal', path: '/api/internal', auth: 'required' },
  { name: 'public', path: '/public', auth: 'public' },
  { name: 'app', path: '/', auth: 'optional' },
];

/** The route each app handler stands for (apps/shared.js names the handlers). */
export const OWNER: Readonly<Record<string, string>> = {
  'host-admin': 'host-admin',
  admin: 'admin',
  reports: 'reports',
  internal: 'internal',
  public: 'public',
  catchall: 'app',
};

/** Roles of the generated requests' user: everything but `admin`. */
export const USER_ROLES = ['analyst'] as const;

function route(name: string): RouteSpec {
  const found = ROUTES.find((r) => r.name === name);
  if (!found) throw new Error(`no route ${name}`);
  return found;
}

/** The `routes:` block of the portcullis config, every route sending to `upstream`. */
export function routesYaml(upstream: string): string {
  return ROUTES.map((r) => {
    const match = [r.host ? `host: ${r.host}` : '', `path: ${r.path}`, r.methods ? `methods: [${r.methods.join(', ')}]` : '']
      .filter(Boolean)
      .join(', ');
    const roles = r.roles ? `\n    require: { roles: [${r.roles.join(', ')}] }` : '';
    return `  - name: ${r.name}\n    match: { ${match} }\n    upstream: ${upstream}\n    auth: ${r.auth}${roles}`;
  }).join('\n');
}

function allows(r: RouteSpec, method: string): boolean {
  const verb = method.toUpperCase();
  return r.methods === undefined || r.methods.includes(verb) || (verb === 'HEAD' && r.methods.includes('GET'));
}

/** What a route asks of a request: nothing (public, optional) or a login with these roles. */
function demands(r: RouteSpec): readonly string[] | undefined {
  return r.auth === 'required' ? (r.roles ?? []) : undefined;
}

/**
 * Whether `judged` (the route portcullis chose) covers `handler` for `method`: the handler's
 * own route with a method it lists (HEAD going with GET), or a route that asks at least as
 * much — a login with a superset of the roles and, for a host-bound handler, the same host.
 * A handler whose own route lets anyone in (public, optional) is covered by every route.
 */
export function covers(judged: string | undefined, handler: string, method: string): boolean {
  const ownerName = OWNER[handler];
  if (ownerName === undefined) return false;
  const owner = route(ownerName);
  const needed = demands(owner);
  if (needed === undefined) return true;
  if (judged === undefined) return false;
  if (judged === ownerName) return allows(owner, method);
  const by = route(judged);
  const asked = demands(by);
  if (asked === undefined || !needed.every((role) => asked.includes(role))) return false;
  return owner.host === undefined || by.host === owner.host;
}

/**
 * Why a judged route missed a handler, as far as route selection explains it (for the report),
 * joined with `+`: `host` when a host-less route judged a request to the bound host, `case`
 * when the judged path falls in the handler's area only regardless of letter case, `head` or
 * `method` when the handler's route does not list the method; `other`
 * when none applies (a framework reading the path differently from portcullis).
 */
export function cause(judged: string | undefined, handler: string, method: string, host: string, path: string): string {
  const owner = route(OWNER[handler] ?? 'app');
  const judgedHost = judged === undefined ? undefined : ROUTES.find((r) => r.name === judged)?.host;
  const bareHost = host.toLowerCase().replace(/:\d*$/, '').replace(/\.$/, '');
  const inArea = (p: string): boolean => owner.path === '/' || p === owner.path || p.startsWith(`${owner.path}/`);
  const causes = [
    bareHost === ADMIN_HOST && judgedHost === undefined ? 'host' : '',
    !inArea(path) && inArea(path.toLowerCase()) ? 'case' : '',
    owner.methods !== undefined && !owner.methods.includes(method.toUpperCase()) ? (method === 'HEAD' ? 'head' : 'method') : '',
  ].filter(Boolean);
  return causes.length > 0 ? causes.join('+') : 'other';
}
