/**
 * The main listener's request and upgrade handlers: reads the request once, then hands it to
 * its terminal: forward-auth, userinfo, the login endpoints, or the reverse proxy for every
 * other path (WebSocket upgrades to the upgrade terminal). Each terminal ends in the shared
 * answer-and-record step (settle.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { readRequestInfo } from '../http/request-info.js';
import { sendError, sendSocketError } from '../http/respond.js';
import type { StateHolder } from '../state/leases.js';
import type { RuntimeState } from '../state/runtime-state.js';
import { forwardAuth } from './forward-auth.js';
import { proxied } from './proxy.js';
import { refuseWith, reject } from './settle.js';
import type { TerminalDeps } from './settle.js';
import { upgrade } from './upgrade.js';
import { USERINFO_PATH, userinfo } from './userinfo.js';

export type { TerminalDeps } from './settle.js';

export interface HandlerDeps extends TerminalDeps {
  /** Each request leases the state it starts with until its answer is done. */
  readonly states: StateHolder;
}

export function createHandlers(deps: HandlerDeps): {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
} {
  /** `seen` learns the request id, for the answer to a request that failed. */
  async function handle(req: IncomingMessage, res: ServerResponse, state: RuntimeState, seen: { requestId: string }): Promise<void> {
    const start = process.hrtime.bigint();
    const read = readRequestInfo(req, state.config);
    const x = { deps, state, info: read.info, start };
    seen.requestId = x.info.requestId;
    // Refusals and the forward-auth answers name their X-Request-Id themselves: setting it here
    // first would send every header of theirs through setHeader.
    if (!read.ok) return reject(x, read.reason, refuseWith(res, x, req.method));
    const { path } = x.info;
    if (path === state.config.forwardAuth.path) return forwardAuth(req, res, x);
    res.setHeader('x-request-id', x.info.requestId);
    if (path === USERINFO_PATH) return userinfo(req, res, x);
    if (deps.login && state.config.login && (await deps.login.route(req, res, x.info, state))) return;
    return proxied(req, res, x);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, state: RuntimeState): Promise<void> {
    const start = process.hrtime.bigint();
    const read = readRequestInfo(req, state.config);
    return upgrade(req, socket, head, { deps, state, info: read.info, start }, read.ok ? undefined : read.reason);
  }

  return {
    onRequest(req, res) {
      const lease = deps.states.acquire();
      const seen = { requestId: '' };
      handle(req, res, lease.state, seen).then(
        () => lease.release(),
        (err: unknown) => {
          try {
            const { requestId } = seen;
            const code = (err as { code?: string } | null)?.code ?? 'ERR_INTERNAL';
            deps.log.requestFailed({ requestId, method: req.method ?? '', path: req.url ?? '', code });
            sendError(res, 'internal_error', { requestId });
          } finally {
            lease.release();
          }
        },
      );
    },
    onUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      const lease = deps.states.acquire();
      handleUpgrade(req, socket, head, lease.state)
        .catch(() => sendSocketError(socket, 'internal_error', { requestId: '' }))
        .finally(() => lease.release());
    },
  };
}
