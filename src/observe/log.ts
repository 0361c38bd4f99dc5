/**
 * The operational log (docs/operations.md): JSON lines on stderr, apart from the audit log.
 *
 * Enforces (as fastify's log-controller does): every line is owned by one named function here,
 * with a fixed `msg` and a whitelisted set of fields, so no caller can put a header, cookie,
 * token or body into the log; `path` fields lose their query string and fragment. Lines are
 * `{"time","level","msg",...fields}`, one per call, newline-terminated.
 */
import { stripQuery } from './audit.js';

export type LogLevel = 'info' | 'warn' | 'error';

export interface OpLog {
  starting(info: { version: string; config: string }): void;
  /** The line tests parse to learn the bound ports. */
  ready(info: { listen: string; admin: string; workers?: number }): void;
  jwksRefreshed(e: { issuer: string; cause: string; keys: number }): void;
  jwksRefreshFailed(e: { issuer: string; cause: string; detail: string; keys: number }): void;
  upstreamError(e: {
    requestId: string;
    route: string;
    method: string;
    host: string;
    path: string;
    code: string;
  }): void;
  reloaded(e: { file: string }): void;
  reloadFailed(e: { file: string; problems: string[] }): void;
  shuttingDown(e: { signal: string }): void;
  stopped(): void;
  auditSinkFailed(e: { output: string; code: string }): void;
  pluginError(e: { authenticator: string; code: string }): void;
  /** A plug-in's own line, through its context's `log`. */
  pluginMessage(e: { message: string; fields: Record<string, string | number | boolean> }): void;
  /** A request that failed inside portcullis (answered 500). */
  requestFailed(e: { requestId: string; method: string; path: string; code: string }): void;
  fatal(message: string): void;
}

type Field = string | number | readonly string[];

export function createOpLog(
  write: (line: string) => void = (line) => {
    process.stderr.write(line);
  },
  now: () => Date = () => new Date(),
): OpLog {
  function emit(level: LogLevel, msg: string, fields: Record<string, Field> = {}): void {
    write(`${JSON.stringify({ time: now().toISOString(), level, msg, ...fields })}\n`);
  }

  return {
    starting: ({ version, config }) => emit('info', 'starting', { version, config }),
    ready: ({ listen, admin, workers }) =>
      emit('info', 'ready', workers === undefined ? { listen, admin } : { listen, admin, workers }),
    jwksRefreshed: ({ issuer, cause, keys }) =>
      emit('info', 'jwks refreshed', { issuer, cause, keys }),
    jwksRefreshFailed: ({ issuer, cause, detail, keys }) =>
      emit('warn', 'jwks refresh failed', { issuer, cause, detail, keys }),
    upstreamError: ({ requestId, route, method, host, path, code }) =>
      emit('warn', 'upstream error', {
        request_id: requestId,
        route,
        method,
        host,
        path: stripQuery(path),
        code,
      }),
    reloaded: ({ file }) => emit('info', 'config reloaded', { file }),
    reloadFailed: ({ file, problems }) =>
      emit('error', 'config reload failed', { file, problems: [...problems] }),
    shuttingDown: ({ signal }) => emit('info', 'shutting down', { signal }),
    stopped: () => emit('info', 'stopped'),
    auditSinkFailed: ({ output, code }) => emit('error', 'audit sink failed', { output, code }),
    pluginError: ({ authenticator, code }) =>
      emit('error', 'authenticator failed', { authenticator, code }),
    pluginMessage: ({ message, fields }) => {
      const safe: Record<string, Field> = {};
      for (const [k, v] of Object.entries(fields)) safe[`plugin_${k}`] = typeof v === 'boolean' ? String(v) : v;
      emit('info', 'plugin', { ...safe, message });
    },
    requestFailed: ({ requestId, method, path, code }) =>
      emit('error', 'request failed', { request_id: requestId, method, path: stripQuery(path), code }),
    fatal: (message) => emit('error', 'fatal', { detail: message }),
  };
}
