/**
 * `GET /_auth/userinfo`: the caller's identity as JSON, judged as a `required` route (a
 * browser's session is refreshed first when it can be).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import { sendError, sendJson } from '../http/respond.js';
import { judge } from './judge.js';
import { refuseWith, settle } from './settle.js';
import type { Exchange } from './settle.js';

export const USERINFO_PATH = '/_auth/userinfo';

const USERINFO_ROUTE: RouteConfig = Object.freeze({
  name: 'userinfo',
  match: Object.freeze({ host: undefined, path: USERINFO_PATH, methods: undefined }),
  upstream: undefined,
  auth: 'required',
  require: undefined,
  forwardToken: false,
  stripPrefix: false,
  timeoutMs: 0,
});

export async function userinfo(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
  const { info } = exchange;
  if (info.method !== 'GET' && info.method !== 'HEAD') {
    sendError(res, 'method_not_allowed', { requestId: info.requestId, extraHeaders: { allow: 'GET, HEAD' } });
    return;
  }
  const { x, decision } = await judge(req, res, exchange, USERINFO_ROUTE);
  await settle(x, decision, refuseWith(res, x, req.method), (granted) => {
    const id = granted.outcome === 'allowed' ? granted.identity : undefined;
    if (!id) return { refuse: 'missing_token' };
    const body = { user: id.user, email: id.email ?? null, username: id.username ?? null, groups: id.groups, roles: id.roles, issuer: id.issuer ?? null, exp: id.exp ?? null };
    sendJson(res, 200, body, info.requestId);
    return 200;
  });
}
