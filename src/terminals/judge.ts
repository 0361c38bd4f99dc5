/**
 * Judging a browser-facing request (proxy, userinfo): the decision pipeline, plus one silent
 * session refresh when a browser's access cookie expired (or is gone) but it holds a refresh
 * cookie; then the request is judged again with the new token. Only on the denial path, so
 * allowed requests pay nothing for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import { parseCookies } from '../http/cookies.js';
import type { RequestInfo } from '../http/request-info.js';
import { withoutOwnCookies } from '../identity/own-credentials.js';
import { decide, decideForRoute } from '../pipeline/decide.js';
import type { Decision } from '../pipeline/decide.js';
import type { Exchange } from './settle.js';

function wantsRefresh(req: IncomingMessage, x: Exchange, decision: Decision, cookieName: string): boolean {
  return (
    decision.outcome === 'denied' &&
    (decision.reason === 'expired' || decision.reason === 'missing_token') &&
    x.state.config.login?.browser !== undefined &&
    req.headers.authorization === undefined &&
    parseCookies(req.headers.cookie).has(`${cookieName}_refresh`)
  );
}

/** The decision, and the exchange it was made on (with the renewed cookie after a refresh). */
export async function judge(
  req: IncomingMessage,
  res: ServerResponse,
  x: Exchange,
  route?: RouteConfig,
): Promise<{ x: Exchange; decision: Decision }> {
  const run = (info: RequestInfo): Promise<Decision> =>
    route ? decideForRoute(info, x.state.pipeline, route) : decide(info, x.state.pipeline);
  const decision = await run(x.info);
  const { login } = x.deps;
  const cookieName = x.state.config.tokens.cookie;
  if (login === undefined || cookieName === false || !wantsRefresh(req, x, decision, cookieName)) return { x, decision };
  const token = await login.refresh(req, res, x.info, x.state);
  if (token === undefined) return { x, decision };
  // The old cookie and its chunks go, or the new token would be joined with a stale tail.
  const others = withoutOwnCookies(req.headers.cookie ?? '', cookieName);
  req.headers.cookie = others ? `${others}; ${cookieName}=${token}` : `${cookieName}=${token}`;
  const renewed = { ...x, info: { ...x.info, headers: req.headers } };
  return { x: renewed, decision: await run(renewed.info) };
}
