/**
 * Assembles a running sidecar from a compiled config: metrics, audit sink, runtime state,
 * the main listener (proxy, forward-auth, login) and the admin listener. `reload` builds a new
 * state and swaps it atomically (the old one keeps serving until then and on failure); the
 * replaced state closes once the last request that started with it ends, bounded by
 * `shutdown_timeout` (state/leases.ts). `shutdown` turns `/readyz` to 503 at once, keeps both
 * listeners accepting for `shutdown_delay` (load balancers and the Kubernetes endpoints
 * controller need that long to stop sending), then stops the main listener, lets in-flight
 * requests finish up to `shutdown_timeout`, closes what is left, and closes the admin listener
 * last: it answers `/readyz` 503 until the process exits.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RuntimeConfig } from '../config/types.js';
import { createAdminHandler } from '../admin/server.js';
import { createHandlers } from '../terminals/index.js';
import { listen } from '../http/listen.js';
import { createLogin } from '../login/index.js';
import type { LoginThrottle } from '../login/rate-limit.js';
import { createAuditSink } from '../observe/audit.js';
import type { AuditEvent, AuditSink } from '../observe/audit.js';
import { createMetrics } from '../observe/metrics.js';
import type { Metrics } from '../observe/metrics.js';
import type { OpLog } from '../observe/log.js';
import { guardClientBody } from '../proxy/client-body.js';
import { createProxy } from '../proxy/proxy.js';
import { createStateHolder } from '../state/leases.js';
import { buildState } from '../state/runtime-state.js';
import type { RuntimeState } from '../state/runtime-state.js';
import { sendError } from '../http/respond.js';
import type { KeyStoreEvents } from '../verify/types.js';

export interface Sidecar {
  readonly listen: string;
  /** Admin address, or '' in a cluster worker (the primary serves the admin port). */
  readonly admin: string;
  /** Every issuer's keys are loaded and the sidecar is not draining. */
  isReady(): boolean;
  readonly metrics: Metrics;
  state(): RuntimeState;
  reload(config: RuntimeConfig): Promise<void>;
  reopenAudit(): void;
  /** Writes a non-request audit event (config reloads). */
  audit(event: AuditEvent): void;
  shutdown(): Promise<void>;
}

/**
 * node:http server limits, chosen on purpose:
 * - `headersTimeout` 20 s: a client must send its whole request head within it (slowloris on
 *   the headers); no legitimate client needs longer.
 * - `requestTimeout` 0 (off): it bounds the receipt of the whole request, body included, so any
 *   finite value would cut a legitimate long upload on a slow link. Stalls are what must be
 *   bounded, and `client_body_timeout` does that for every request body (proxy/client-body.ts:
 *   408, the connection closed).
 * - `keepAliveTimeout` 65 s: longer than the idle timeout of the usual proxies in front (nginx
 *   upstream keep-alive and cloud load balancers, 60 s), so the proxy closes an idle
 *   connection first; otherwise it may send a request just as portcullis closes the
 *   connection and answer its client 502. While draining, connections close after their
 *   answer anyway.
 */
const SERVER_LIMITS = {
  maxHeaderSize: 16 * 1024,
  headersTimeout: 20_000,
  requestTimeout: 0,
  keepAliveTimeout: 65_000,
} as const;

function addressOf(server: Server): string {
  const a = server.address() as AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export async function startSidecar(
  config: RuntimeConfig,
  deps: { log: OpLog; admin?: boolean; throttle?: LoginThrottle },
): Promise<Sidecar> {
  const { log } = deps;
  const metrics = createMetrics({ tokenSeriesLimit: config.metrics.tokenSeriesLimit });
  const events: KeyStoreEvents = {
    onRefresh(e) {
      metrics.jwksRefresh(e.issuer, e.result, e.cause, e.keys);
      if (e.result === 'ok') log.jwksRefreshed({ issuer: e.issuer, cause: e.cause, keys: e.keys });
      else log.jwksRefreshFailed({ issuer: e.issuer, cause: e.cause, detail: e.detail ?? '', keys: e.keys });
    },
  };
  const pluginLog = (message: string, fields: Record<string, string | number | boolean> = {}): void =>
    log.pluginMessage({ message, fields });
  const openAudit = (output: string): AuditSink =>
    createAuditSink(output, {
      onDrop: () => metrics.auditDropped(),
      onError: (err) => {
        metrics.auditWriteError();
        log.auditSinkFailed({ output, code: (err as { code?: string }).code ?? err.name });
      },
    });

  const states = createStateHolder(await buildState(config, { events, pluginLog }), (err) => {
    const failure = err as { code?: string; authenticator?: string };
    log.pluginError({ authenticator: failure.authenticator ?? 'unknown', code: failure.code ?? 'ERR_PLUGIN_CLOSE' });
  });
  let audit = openAudit(config.audit.output);
  /** From the stop signal on: `/readyz` answers 503. */
  let stopping = false;
  /** After `shutdown_delay`: the main listener stops accepting; answers close their connection. */
  let draining = false;
  const recorder = {
    get metrics() {
      return metrics;
    },
    get audit() {
      return audit;
    },
  };
  const proxy = createProxy();
  const login = createLogin({ recorder, log, ...(deps.throttle ? { throttle: deps.throttle } : {}) });
  const tunnels = new Set<Duplex>();
  const handlers = createHandlers({ states, proxy, recorder, log, login, draining: () => draining, tunnels });

  const main = createServer(SERVER_LIMITS, (req, res) => {
    // While draining, answers close their connection so keep-alive clients move elsewhere.
    if (draining) res.shouldKeepAlive = false;
    guardClientBody(req, res, states.current().config.clientBodyTimeoutMs, (r) =>
      sendError(r, 'request_timeout', { requestId: String(r.getHeader('x-request-id') ?? '') }),
    );
    handlers.onRequest(req, res);
  });
  main.on('upgrade', (req, socket, head) => handlers.onUpgrade(req, socket, head));
  main.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  const admin = createServer(
    SERVER_LIMITS,
    createAdminHandler({
      render: () => metrics.render(),
      notReadyReason: () => {
        if (stopping) return 'shutting down';
        const waiting = [...states.current().stores.values()].filter((s) => !s.isReady()).map((s) => s.name);
        return waiting.length > 0 ? `keys not loaded for issuer(s): ${waiting.join(', ')}` : undefined;
      },
    }),
  );

  const withAdmin = deps.admin ?? true;
  try {
    await listen(main, config.listen.host, config.listen.port);
    if (withAdmin) await listen(admin, config.admin.listen.host, config.admin.listen.port);
  } catch (err) {
    main.close();
    admin.close();
    await states.close(0);
    await audit.close();
    throw err;
  }

  return {
    listen: addressOf(main),
    admin: withAdmin ? addressOf(admin) : '',
    metrics,
    isReady: () => !stopping && states.current().isReady(),
    state: () => states.current(),
    async reload(next) {
      const previous = states.current();
      const state = await buildState(next, { events, pluginLog }, previous);
      states.replace(state, previous.config.shutdownTimeoutMs);
      metrics.setTokenSeriesLimit(next.metrics.tokenSeriesLimit);
      if (next.audit.output !== previous.config.audit.output) {
        const old = audit;
        audit = openAudit(next.audit.output);
        await old.close();
      }
    },
    reopenAudit() {
      audit.reopen();
    },
    audit(event) {
      audit.write(event);
    },
    async shutdown() {
      stopping = true;
      const delayMs = states.current().config.shutdownDelayMs;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      draining = true;
      const closed = new Promise<void>((resolve) => main.close(() => resolve()));
      main.closeIdleConnections();
      const timer = setTimeout(() => {
        main.closeAllConnections();
        // Upgraded sockets are no longer the HTTP server's: close the WebSocket tunnels too.
        for (const socket of tunnels) socket.destroy();
      }, states.current().config.shutdownTimeoutMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await proxy.close();
      await states.close(states.current().config.shutdownTimeoutMs);
      await audit.close();
      if (withAdmin) {
        const adminClosed = new Promise<void>((resolve) => admin.close(() => resolve()));
        admin.closeAllConnections();
        await adminClosed;
      }
    },
  };
}
