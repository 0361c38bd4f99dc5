/**
 * The admin listener (docs/operations.md): `/metrics` (Prometheus text), `/healthz` (200 while the
 * process runs), `/readyz` (200 once every issuer's keys are loaded and not while shutting
 * down; 503 with a JSON reason otherwise), `/version`. Kept off the main port so probes and
 * scrapes never pass through the auth pipeline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdFrom } from '../http/request-id.js';
import { versionInfo } from '../version.js';

export interface AdminDeps {
  /** The Prometheus exposition (one process, or aggregated over workers). */
  render(): Promise<{ contentType: string; body: string }>;
  /** Why the sidecar is not ready, or undefined when it is. */
  notReadyReason(): string | undefined;
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createAdminHandler(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.setHeader('x-request-id', requestIdFrom(req.headers['x-request-id']));
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: 'method_not_allowed', error_description: 'Use GET on the admin endpoints.' });
      return;
    }
    switch (path) {
      case '/healthz':
        json(res, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const reason = deps.notReadyReason();
        if (reason === undefined) json(res, 200, { status: 'ready' });
        else json(res, 503, { status: 'not_ready', reason });
        return;
      }
      case '/version':
        json(res, 200, versionInfo());
        return;
      case '/metrics':
        deps.render().then(
          ({ contentType, body }) => {
            res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
            res.end(body);
          },
          () => json(res, 500, { error: 'internal_error', error_description: 'Metrics could not be rendered.' }),
        );
        return;
      default:
        json(res, 404, { error: 'not_found', error_description: 'Admin endpoints: /metrics /healthz /readyz /version.' });
    }
  };
}
