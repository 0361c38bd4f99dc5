/**
 * The login endpoints (docs/login.md): password login, browser login start and callback,
 * logout, and the silent refresh the request handler asks for.
 *
 * Enforces: login is active only while the current config has a `login` section whose issuer
 * exists; paths are matched exactly on the normalised path; browser endpoints exist only with
 * `login.browser`; IdP metadata and the cookie sealer are cached per runtime state (a reload
 * starts afresh), the failed-login rate limiter and the shared session renewals live across
 * reloads (keyed by username and client address, resp. by refresh cookie; both bounded; in a
 * cluster the failed-login counts live in the primary).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from '../http/request-info.js';
import type { RuntimeState } from '../state/runtime-state.js';
import { callback, startLogin } from './browser.js';
import { createEnvFactory } from './context.js';
import type { LoginDeps } from './context.js';
import { logout } from './logout.js';
import { passwordLogin } from './password.js';
import { createRateLimiter, localThrottle } from './rate-limit.js';
import { createRenewals, refreshSession } from './refresh.js';

export type { LoginDeps } from './context.js';

export interface Login {
  /** Handles login endpoints; returns true when the path was one of them (answered). */
  route(req: IncomingMessage, res: ServerResponse, info: RequestInfo, state: RuntimeState): Promise<boolean>;
  /**
   * Browser request whose access cookie is missing/expired but has a refresh cookie: renews at
   * the IdP, appends the new cookies to `res`, returns the new access token (or undefined).
   */
  refresh(req: IncomingMessage, res: ServerResponse, info: RequestInfo, state: RuntimeState): Promise<string | undefined>;
}

export function createLogin(deps: LoginDeps): Login {
  const throttle = deps.throttle ?? localThrottle(createRateLimiter(deps.now === undefined ? {} : { now: deps.now }));
  const envFor = createEnvFactory(deps, throttle);
  const renewals = createRenewals();
  return {
    async route(req, res, info, state) {
      const env = envFor(state);
      if (env === undefined) return false;
      const { password, browser } = env.login;
      if (password !== undefined && info.path === password.path) {
        await passwordLogin(req, res, info, env);
        return true;
      }
      if (browser === undefined) return false;
      if (info.path === browser.startPath) await startLogin(res, info, env, browser);
      else if (info.path === browser.callbackPath) await callback(res, info, env, browser);
      else if (info.path === browser.logoutPath) await logout(res, info, env, browser, renewals);
      else return false;
      return true;
    },
    async refresh(_req, res, info, state) {
      const env = envFor(state);
      return env === undefined ? undefined : refreshSession(res, info, env, renewals);
    },
  };
}
