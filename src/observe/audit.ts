/**
 * The audit log sink (docs/operations.md): one JSON object per line, written off the request path.
 *
 * Enforces:
 * - every line carries all audit keys in a fixed order, then `username` and `requirement`,
 *   `null` where unknown, and only those (plus `kind` when given); `path` loses its query string and fragment even if the caller
 *   passed them, so no query-borne secret reaches the log;
 * - `write()` never blocks, awaits or throws: it serialises and enqueues; one batch at a time is
 *   handed to the stream and the next waits for its completion (backpressure), so a slow pipe
 *   or disk grows only the bounded queue; past `maxQueue` lines an event is dropped (`onDrop`);
 * - an output failure (unwritable file, full disk, closed pipe) calls `onError` once per episode;
 *   lines lost with it count as drops; later events queue (then drop) until `reopen()`, which
 *   SIGHUP calls and which a failed file sink also tries by itself every RETRY_MS;
 * - `reopen()` (SIGHUP, logrotate) ends the old file and opens the path again; `close()` writes
 *   what is queued and ends the file.
 */
import { createWriteStream } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Writable } from 'node:stream';

export interface AuditEvent {
  event: 'access' | 'login' | 'logout' | 'config_reload';
  request_id?: string;
  decision?: string;
  reason?: string;
  route?: string;
  method?: string;
  host?: string;
  path?: string;
  client_ip?: string;
  user?: string;
  issuer?: string;
  /** The token fingerprint (first 12 hex chars of its SHA-256), never the token. */
  token?: string;
  jti?: string;
  status?: number;
  duration_ms?: number;
  /** The `claims.username` value (Keycloak's `preferred_username`): `user` is often a UUID. */
  username?: string;
  /** On a 403 (and a route-issuer refusal): the route requirement that failed. */
  requirement?: string;
  kind?: string;
}

export interface AuditSink {
  write(e: AuditEvent): void;
  reopen(): void;
  close(): Promise<void>;
}

export interface AuditDeps {
  onDrop: () => void;
  onError: (err: Error) => void;
  /** The clock (default Date.now). */
  now?: () => Date | number;
  /** Queued lines before events are dropped (default 10000). */
  maxQueue?: number;
  /** How often a failed file sink retries its path (default RETRY_MS). */
  retryMs?: number;
}

/** Lines handed to the stream in one write. */
const MAX_BATCH = 1000;
/**
 * How long lines wait to be written together. Under load this turns one write syscall per
 * event-loop turn into one per interval (measured: most of the audit cost per request).
 */
const FLUSH_DELAY_MS = 25;
/** A failed file sink tries to reopen its path this often (a full disk that was cleaned up). */
const RETRY_MS = 5_000;

/** Cuts a path at its query string or fragment. */
export function stripQuery(path: string): string {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 0x3f || code === 0x23) return path.slice(0, i);
  }
  return path;
}

/**
 * A JSON string literal. A value without a character JSON escapes (quote, backslash, control
 * characters) or a surrogate (a lone one is escaped) is quoted as it is; any other value goes
 * through JSON.stringify, so the text is always what JSON.stringify would write.
 */
function jsonString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return JSON.stringify(value);
  }
  return `"${value}"`;
}

function str(value: string | undefined): string {
  return value === undefined ? 'null' : jsonString(value);
}

function num(value: number | undefined): string {
  return value !== undefined && Number.isFinite(value) ? String(value) : 'null';
}

/** The ISO date-time up to the second, rebuilt once a second; the milliseconds are appended. */
let isoSecond = Number.NaN;
let isoPrefix = '';

/** `Date#toISOString` of `ms` (milliseconds since the epoch). */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, -4);
    isoSecond = second;
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/**
 * One audit line, keys in the documented order, terminated by a newline: the same text as
 * `JSON.stringify` of the object with those keys, written directly.
 */
export function auditLine(e: AuditEvent, time: Date | number): string {
  const kind = e.kind === undefined ? '' : `,"kind":${jsonString(e.kind)}`;
  return (
    `{"time":"${isoTime(typeof time === 'number' ? time : time.getTime())}","event":${jsonString(e.event)}` +
    `,"request_id":${str(e.request_id)},"decision":${str(e.decision)},"reason":${str(e.reason)}` +
    `,"route":${str(e.route)},"method":${str(e.method)},"host":${str(e.host)}` +
    `,"path":${e.path === undefined ? 'null' : jsonString(stripQuery(e.path))},"client_ip":${str(e.client_ip)}` +
    `,"user":${str(e.user)},"issuer":${str(e.issuer)},"token":${str(e.token)},"jti":${str(e.jti)}` +
    `,"status":${num(e.status)},"duration_ms":${num(e.duration_ms)},"username":${str(e.username)}` +
    `,"requirement":${str(e.requirement)}${kind}}\n`
  );
}

export function createAuditSink(output: string, deps: AuditDeps): AuditSink {
  const std = output === 'stdout' ? process.stdout : output === 'stderr' ? process.stderr : undefined;
  if (std === undefined && !isAbsolute(output)) {
    throw new TypeError('audit output must be "stdout", "stderr" or an absolute file path');
  }
  const maxQueue = deps.maxQueue ?? 10_000;
  if (!Number.isInteger(maxQueue) || maxQueue < 1) {
    throw new TypeError('maxQueue must be a positive integer');
  }
  const now = deps.now ?? Date.now;

  const queue: string[] = [];
  let stream: Writable;
  let inFlight = false;
  let scheduled = false;
  let failed = false;
  let closing: Promise<void> | undefined;
  let finishClose: (() => void) | undefined;

  function drop(lines: number): void {
    for (let i = 0; i < lines; i += 1) deps.onDrop();
  }

  /** Starts a failure episode on the current stream; errors of a replaced stream are ignored. */
  function fail(target: Writable, err: Error): void {
    if (target !== stream || failed) return;
    failed = true;
    deps.onError(target.errored ?? err);
    if (std === undefined) {
      target.destroy();
      setTimeout(() => {
        if (failed && stream === target) sink.reopen();
      }, deps.retryMs ?? RETRY_MS).unref();
    }
    settle();
  }

  function open(): Writable {
    if (std !== undefined) return std;
    const file = createWriteStream(output, { flags: 'a' });
    file.on('error', (err) => fail(file, err));
    return file;
  }

  const onStdError = (err: Error): void => fail(std as Writable, err);
  if (std !== undefined) std.on('error', onStdError);
  stream = open();

  function schedule(): void {
    if (scheduled || inFlight || failed || queue.length === 0) return;
    scheduled = true;
    if (queue.length >= MAX_BATCH || closing !== undefined) setImmediate(flush);
    else setTimeout(flush, FLUSH_DELAY_MS);
  }

  function flush(): void {
    scheduled = false;
    if (inFlight || failed || queue.length === 0) return;
    const batch = queue.splice(0, MAX_BATCH);
    const target = stream;
    inFlight = true;
    target.write(batch.join(''), (err?: Error | null) => {
      inFlight = false;
      if (err) {
        drop(batch.length);
        fail(target, err);
      }
      schedule();
      settle();
    });
  }

  /** Completes a pending close() once nothing more can be written. */
  function settle(): void {
    if (finishClose === undefined || inFlight) return;
    if (queue.length > 0 && !failed) return;
    drop(queue.splice(0).length);
    const done = finishClose;
    finishClose = undefined;
    if (std !== undefined) {
      std.off('error', onStdError);
      done();
    } else if (stream.closed) {
      done();
    } else {
      stream.once('close', done);
      stream.end();
    }
  }

  const sink: AuditSink = {
    write(e) {
      if (closing !== undefined || queue.length >= maxQueue) {
        deps.onDrop();
        return;
      }
      queue.push(auditLine(e, now()));
      schedule();
    },
    reopen() {
      if (closing !== undefined) return;
      if (std === undefined) {
        // The old stream finishes its in-flight batch into the renamed file, then closes.
        const old = stream;
        stream = open();
        if (!old.destroyed) old.end();
      }
      failed = false;
      schedule();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        finishClose = resolve;
        schedule();
        settle();
      });
      return closing;
    },
  };
  return sink;
}
