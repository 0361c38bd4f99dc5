/**
 * What every differential upstream app shares: the areas of the portcullis routes config it
 * serves, the virtual host check, the labels a handler answers with and the port announcement.
 * Each handler answers 200 with `x-handler: <name>` and `x-seen-path: <the path the framework
 * routed on, URI-component encoded>`, so the suite knows which handler ran.
 */

/** The host whose every path is one handler (`host-admin`), as a name-based virtual host. */
export const ADMIN_HOST = 'admin.example.test';
export const HOST_HANDLER = 'host-admin';

/** Handler name and the path prefix of its area. */
export const AREAS = [
  ['admin', '/admin'],
  ['reports', '/reports'],
  ['internal', '/api/internal'],
  ['public', '/public'],
];

/** Virtual hosts compare like DNS names: case-insensitive, without the port and a trailing dot. */
export function isAdminHost(host) {
  const name = String(host ?? '').toLowerCase().replace(/:\d*$/, '').replace(/\.$/, '');
  return name === ADMIN_HOST;
}

export function labels(handler, path) {
  return { 'x-handler': handler, 'x-seen-path': encodeURIComponent(path), 'content-type': 'text/plain' };
}

/**
 * The first stdout line, read by the suite: the port the server listens on. From then on the
 * app lives as long as the suite holds its stdin open, so a suite that dies takes it along.
 */
export function announce(port) {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.stdin.on('end', () => process.exit(0)).resume();
}
