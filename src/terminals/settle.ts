/**
 * What every terminal shares: the request being served (`Exchange`), and the one step that ends
 * a judged request: answer (a refusal, or the terminal's own answer to a granted request), then
 * record the decision once, with the status that was really sent.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Reason } from '../errors.js';
import { REASONS } from '../errors.js';
import type { RequestInfo } from '../http/request-info.js';
import { deniedAnswer } from '../http/browser-redirect.js';
import type { Terminal } from '../http/browser-redirect.js';
import { sendError } from '../http/respond.js';
import type { Login } from '../login/index.js';
import type { OpLog } from '../observe/log.js';
import { recordDecision } from '../observe/record.js';
import type { Recorder } from '../observe/record.js';
import type { Decision } from '../pipeline/decide.js';
import type { Proxy } from '../proxy/proxy.js';
import type { RuntimeState } from '../state/runtime-state.js';

export interface TerminalDeps {
  readonly proxy: Proxy;
  readonly recorder: Recorder;
  readonly log: OpLog;
  /** Login endpoints and the browser session refresh. */
  readonly login?: Login;
  /** True while shutting down: new upgrades are refused. */
  readonly draining?: () => boolean;
  /** Open WebSocket tunnels (client sockets), closed by the sidecar when a drain times out. */
  readonly tunnels?: Set<Duplex>;
}

/** One request in a terminal: the state it started with, what was read of it, when it began. */
export interface Exchange {
  readonly deps: TerminalDeps;
  readonly state: RuntimeState;
  readonly info: RequestInfo;
  readonly start: bigint;
}

export type Granted = Exclude<Decision, { outcome: 'denied' }>;

/**
 * A terminal's answer to a granted request: the status it sent, a refusal to send instead, or
 * `undefined` when the client left before anything could be answered (nothing is recorded).
 */
export type Answer = number | { readonly refuse: Reason } | undefined;

/**
 * Writes a refusal (an HTTP answer or a raw socket answer) and returns the status sent;
 * `allow` lists the methods of a `method_not_allowed` refusal.
 */
export type Refuse = (reason: Reason, allow?: readonly string[]) => number;

export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * The answer to a refusal (HEAD: without a body): JSON for API clients, an HTML page for a
 * client that prefers HTML, or, for a browser that needs to log in, a redirect to the login
 * start (browser-redirect.ts decides, by terminal).
 */
export function refuseWith(res: ServerResponse, x: Exchange, method: string | undefined, terminal?: Terminal): Refuse {
  return (reason, allow) => {
    const answer = deniedAnswer(x.info, x.state.config, reason, terminal);
    if ('location' in answer) {
      res.writeHead(302, { location: answer.location, 'x-request-id': x.info.requestId, 'cache-control': 'no-store' });
      res.end();
      return 302;
    }
    const extraHeaders = {
      ...(allow === undefined ? {} : { allow: allow.join(', ') }),
      ...(answer.login === undefined ? {} : { 'x-auth-request-redirect': answer.login }),
    };
    sendError(res, reason, { requestId: x.info.requestId, head: method === 'HEAD', extraHeaders, ...(answer.html ? { html: answer.html } : {}) });
    return REASONS[reason].status;
  };
}

function record(x: Exchange, decision: Decision, status: number, authMs: number): void {
  if (decision.outcome === 'denied' && decision.reason === 'internal_error') {
    x.deps.log.pluginError({ authenticator: decision.detail ?? 'unknown', code: 'ERR_AUTHENTICATOR' });
  }
  recordDecision(x.deps.recorder, x.state.config.audit.allowed, x.info, decision, status, authMs / 1000, elapsedMs(x.start));
}

/** A refusal decided before the pipeline ran (unreadable request, untrusted caller, ...). */
export function reject(x: Exchange, reason: Reason, refuse: Refuse): void {
  record(x, { outcome: 'denied', route: undefined, reason }, refuse(reason), elapsedMs(x.start));
}

/** A granted request the terminal cannot serve after all, recorded as that refusal. */
function deniedAfter(granted: Granted, reason: Reason): Decision {
  if (granted.outcome === 'public') return { outcome: 'denied', route: granted.route, reason };
  return {
    outcome: 'denied',
    route: granted.route,
    reason,
    ...(granted.identity === undefined ? {} : { identity: granted.identity }),
    ...(granted.token === undefined ? {} : { token: granted.token }),
  };
}

/** Answers a judged request and records it once. */
export async function settle(
  x: Exchange,
  decision: Decision,
  refuse: Refuse,
  answer: (granted: Granted) => Answer | Promise<Answer>,
): Promise<void> {
  const authMs = elapsedMs(x.start);
  if (decision.outcome === 'denied') return record(x, decision, refuse(decision.reason, decision.allow), authMs);
  const answering = answer(decision);
  // A terminal that answers at once (forward-auth) costs no extra turn of the microtask queue.
  const answered = answering instanceof Promise ? await answering : answering;
  if (answered === undefined) return;
  if (typeof answered === 'number') return record(x, decision, answered, authMs);
  record(x, deniedAfter(decision, answered.refuse), refuse(answered.refuse), authMs);
}
