// Holds observe/audit.ts to docs/operations.md (and the operator fields username, requirement): every key in a fixed order, no query strings, a sink that
// never throws or blocks, counts drops, reports a failing output once and recovers on reopen.
import { mkdirSync, readFileSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { auditLine, createAuditSink, stripQuery } from '../../../src/observe/audit.js';
import type { AuditEvent } from '../../../src/observe/audit.js';

const KEYS = [
  'time', 'event', 'request_id', 'decision', 'reason', 'route', 'method', 'host', 'path',
  'client_ip', 'user', 'issuer', 'token', 'jti', 'status', 'duration_ms', 'username', 'requirement',
];
const FIXED = new Date('2025-01-02T03:04:05.678Z');

function readLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls (bounded) until the async writer has produced what the test waits for. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i += 1) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition never held');
}

function counters() {
  const c = { drops: 0, errors: [] as Error[] };
  return {
    c,
    deps: { onDrop: () => void (c.drops += 1), onError: (e: Error) => void c.errors.push(e), now: () => FIXED },
  };
}

const access = (n: number): AuditEvent => ({ event: 'access', request_id: `r${n}`, decision: 'denied', reason: 'expired' });

void t.test('lines carry every docs/operations.md key in order, null where unknown', (t) => {
  const rows: { desc: string; event: AuditEvent; want: Record<string, unknown> }[] = [
    {
      desc: 'a full access event',
      event: { event: 'access', request_id: 'abc', decision: 'allowed', reason: 'none', route: 'api', method: 'GET', host: 'app.example.com', path: '/api/x', client_ip: '10.0.0.1', user: 'u1', issuer: 'https://idp', token: '0123456789ab', jti: 'j1', status: 200, duration_ms: 1.5, username: 'alice' },
      want: { time: FIXED.toISOString(), event: 'access', request_id: 'abc', decision: 'allowed', reason: 'none', route: 'api', method: 'GET', host: 'app.example.com', path: '/api/x', client_ip: '10.0.0.1', user: 'u1', issuer: 'https://idp', token: '0123456789ab', jti: 'j1', status: 200, duration_ms: 1.5, username: 'alice', requirement: null },
    },
    {
      desc: 'a 403 names the requirement that failed',
      event: { event: 'access', decision: 'denied', reason: 'insufficient_scope', user: 'u1', username: 'bob', status: 403, requirement: 'roles' },
      want: { time: FIXED.toISOString(), event: 'access', request_id: null, decision: 'denied', reason: 'insufficient_scope', route: null, method: null, host: null, path: null, client_ip: null, user: 'u1', issuer: null, token: null, jti: null, status: 403, duration_ms: null, username: 'bob', requirement: 'roles' },
    },
    {
      desc: 'a bare config reload event',
      event: { event: 'config_reload' },
      want: { time: FIXED.toISOString(), event: 'config_reload', request_id: null, decision: null, reason: null, route: null, method: null, host: null, path: null, client_ip: null, user: null, issuer: null, token: null, jti: null, status: null, duration_ms: null, username: null, requirement: null },
    },
  ];
  for (const row of rows) {
    const line = auditLine(row.event, FIXED);
    t.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), `${row.desc}: one line`);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    t.same(Object.keys(parsed), KEYS, `${row.desc}: keys in order`);
    t.strictSame(parsed, row.want, `${row.desc}: values`);
  }
  const login = JSON.parse(auditLine({ event: 'login', kind: 'password', user: 'u1', decision: 'allowed' }, FIXED)) as Record<string, unknown>;
  t.same(Object.keys(login), [...KEYS, 'kind'], 'a login with kind appends kind last');
  t.equal(login.kind, 'password');
  const smuggled = { event: 'access', authorization: 'Bearer secret' } as AuditEvent;
  t.notMatch(auditLine(smuggled, FIXED), /secret|authorization/, 'fields outside docs/operations.md never reach the line');
  t.end();
});

void t.test('path is stored without query string or fragment', (t) => {
  const rows: [string, string, string][] = [
    ['query string removed', '/api/x?access_token=eyJabc', '/api/x'],
    ['fragment removed', '/api/x#frag', '/api/x'],
    ['fragment before query', '/a#b?c', '/a'],
    ['root with query', '/?q=1', '/'],
    ['plain path untouched', '/a/b/c', '/a/b/c'],
    ['empty query', '/a?', '/a'],
  ];
  for (const [desc, path, want] of rows) {
    t.equal(stripQuery(path), want, `${desc}: stripQuery`);
    t.equal((JSON.parse(auditLine({ event: 'access', path }, FIXED)) as { path: string }).path, want, `${desc}: line`);
  }
  t.end();
});

void t.test('file output: appends, flushes on close, drops after close', async (t) => {
  const file = join(t.testdir({ 'audit.log': '{"existing":true}\n' }), 'audit.log');
  const { c, deps } = counters();
  const sink = createAuditSink(file, deps);
  for (let i = 0; i < 2500; i += 1) sink.write(access(i));
  await sink.close();
  const lines = readLines(file);
  t.same(lines[0], { existing: true }, 'opened for append, earlier content kept');
  t.equal(lines.length, 2501, 'every event written across several batches');
  t.same(lines.slice(1).map((l) => l.request_id), Array.from({ length: 2500 }, (_, i) => `r${i}`), 'in order');
  sink.write(access(9999));
  t.equal(c.drops, 1, 'a write after close is counted as dropped');
  t.equal(await sink.close(), undefined, 'close is idempotent');
  t.same(c.errors, [], 'no error');
});

void t.test('queue full: events beyond maxQueue are dropped and counted', async (t) => {
  const file = join(t.testdir(), 'audit.log');
  const { c, deps } = counters();
  const sink = createAuditSink(file, { ...deps, maxQueue: 3 });
  for (let i = 0; i < 5; i += 1) sink.write(access(i));
  t.equal(c.drops, 2, 'two of five synchronous writes exceed a queue of 3');
  await sink.close();
  t.same(readLines(file).map((l) => l.request_id), ['r0', 'r1', 'r2'], 'the queued three are written');
});

void t.test('logrotate: after rename and reopen new lines go to a new file', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'audit.log');
  const { c, deps } = counters();
  const sink = createAuditSink(file, deps);
  sink.write(access(1));
  await until(() => readLines(file).length === 1);
  renameSync(file, join(dir, 'audit.log.1'));
  sink.write(access(2));
  await until(() => readLines(join(dir, 'audit.log.1')).length === 2);
  sink.reopen();
  sink.write(access(3));
  await sink.close();
  t.same(readLines(join(dir, 'audit.log.1')).map((l) => l.request_id), ['r1', 'r2'], 'before reopen: the renamed file');
  t.same(readLines(file).map((l) => l.request_id), ['r3'], 'after reopen: a new file at the path');
  t.same([c.drops, c.errors.length], [0, 0]);
});

void t.test('unwritable output: onError once per episode, write never throws, reopen retries', async (t) => {
  const rows = [
    { desc: 'a directory path', path: (dir: string) => dir, code: 'EISDIR' },
    { desc: 'a file in a missing directory', path: (dir: string) => join(dir, 'missing', 'audit.log'), code: 'ENOENT' },
  ];
  for (const row of rows) {
    const dir = t.testdir();
    const { c, deps } = counters();
    const sink = createAuditSink(row.path(dir), deps);
    for (let i = 0; i < 3; i += 1) sink.write(access(i));
    await until(() => c.errors.length === 1);
    t.equal((c.errors[0] as NodeJS.ErrnoException).code, row.code, `${row.desc}: the cause is reported`);
    t.doesNotThrow(() => { for (let i = 3; i < 5; i += 1) sink.write(access(i)); }, `${row.desc}: writes after the failure do not throw`);
    sink.reopen();
    sink.write(access(5));
    await until(() => c.errors.length === 2);
    t.equal(c.errors.length, 2, `${row.desc}: a failed reopen is a new episode, reported once`);
    await sink.close();
    t.equal(c.drops, 6, `${row.desc}: every event is counted as dropped, in flight or at close`);
  }
});

void t.test('a failed file recovers on reopen once the path is writable', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'logs', 'audit.log');
  const { c, deps } = counters();
  const sink = createAuditSink(file, deps);
  sink.write(access(1));
  await until(() => c.errors.length === 1);
  sink.write(access(2));
  sink.write(access(3));
  mkdirSync(join(dir, 'logs'));
  sink.reopen();
  await sink.close();
  // r1 is dropped if its batch was handed to the stream before the open failed, else it waited.
  t.ok(c.drops <= 1, 'at most the batch lost with the failure is dropped');
  t.same(readLines(file).map((l) => l.request_id), ['r1', 'r2', 'r3'].slice(c.drops), 'events queued during the failure are written');
  t.equal(c.errors.length, 1, 'one report');
});

void t.test('a failed file sink retries its path by itself (a full disk that was cleaned up)', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'later', 'audit.log');
  const { c, deps } = counters();
  const sink = createAuditSink(file, { ...deps, retryMs: 50 });
  sink.write(access(1));
  await until(() => c.errors.length === 1);
  sink.write(access(2));
  mkdirSync(join(dir, 'later'));
  await until(() => existsSync(file) && readLines(file).some((l) => l.request_id === 'r2'));
  t.ok(readLines(file).some((l) => l.request_id === 'r2'), 'written after the retry, without a SIGHUP');
  await sink.close();
});

// The TAP stream itself goes to stdout, so the writer is observed on stderr.
void t.test('stderr: one batch in flight at a time; a failed write is reported once', async (t) => {
  const chunks: string[] = [];
  const callbacks: ((err?: Error | null) => void)[] = [];
  t.capture(process.stderr, 'write', (chunk: string, cb: (err?: Error | null) => void) => {
    chunks.push(chunk);
    callbacks.push(cb);
    return true;
  });

  const { c, deps } = counters();
  const sink = createAuditSink('stderr', { ...deps, maxQueue: 2 });
  sink.write(access(1));
  await until(() => chunks.length === 1);
  sink.write(access(2));
  sink.write(access(3));
  sink.write(access(4));
  await new Promise((r) => setImmediate(r));
  t.equal(chunks.length, 1, 'nothing more is written while the first batch is pending');
  t.equal(c.drops, 1, 'the queue of 2 overflows while the writer waits');
  callbacks[0]!();
  await until(() => chunks.length === 2);
  t.same(chunks[1]!.trim().split('\n').map((l) => (JSON.parse(l) as AuditEvent).request_id), ['r2', 'r3'], 'the waiting lines go as one batch');
  const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
  callbacks[1]!(epipe);
  await until(() => c.errors.length === 1);
  t.equal(c.errors[0], epipe, 'the stream error is reported');
  t.equal(c.drops, 3, 'the failed batch is counted as dropped');
  sink.write(access(5));
  await new Promise((r) => setImmediate(r));
  t.equal(chunks.length, 2, 'a failed output is not written to until reopen');
  sink.reopen();
  await until(() => chunks.length === 3);
  callbacks[2]!();
  await sink.close();
  t.equal(c.errors.length, 1, 'one report for the episode');
});

void t.test('stderr: an error event on the stream is handled, and the listener removed on close', async (t) => {
  const others = process.stderr.listeners('error') as ((err: Error) => void)[];
  process.stderr.removeAllListeners('error');
  t.teardown(() => { for (const l of others) process.stderr.on('error', l); });
  const { c, deps } = counters();
  const sink = createAuditSink('stderr', deps);
  t.equal(process.stderr.listenerCount('error'), 1, 'the sink listens for errors');
  const err = new Error('write EPIPE');
  t.doesNotThrow(() => process.stderr.emit('error', err), 'no unhandled error event');
  process.stderr.emit('error', new Error('again'));
  t.same(c.errors, [err], 'reported once');
  await sink.close();
  t.equal(process.stderr.listenerCount('error'), 0, 'listener removed on close');
});

void t.test('stdout output attaches to process.stdout and detaches on close', async (t) => {
  const before = process.stdout.listenerCount('error');
  const sink = createAuditSink('stdout', counters().deps);
  t.equal(process.stdout.listenerCount('error'), before + 1, 'listens for stdout errors');
  await sink.close();
  t.equal(process.stdout.listenerCount('error'), before, 'detached');
});

void t.test('invalid arguments are refused at creation', (t) => {
  const { deps } = counters();
  t.throws(() => createAuditSink('audit.log', deps), { name: 'TypeError', message: 'audit output must be "stdout", "stderr" or an absolute file path' }, 'relative path');
  t.throws(() => createAuditSink('/tmp/x.log', { ...deps, maxQueue: 0 }), { name: 'TypeError', message: 'maxQueue must be a positive integer' }, 'empty queue');
  t.end();
});

void t.test('the line is the text JSON.stringify writes, hostile values included', (t) => {
  const hostile = ['plain', 'quote"in', 'back\\slash', 'new\nline', 'nul\u0000', 'tab\t', 'del\u007f', 'line\u2028sep', 'caf\u00e9', 'emoji \u{1f600}', 'lone \ud800 high', 'lone \udc00 low', '</script>', ''];
  for (const [i, value] of hostile.entries()) {
    const event: AuditEvent = { event: 'access', request_id: value, route: value, host: value, path: `/${value}`, user: value, username: value, issuer: value, jti: value, requirement: value, kind: value, status: 200, duration_ms: 0.125 };
    const expected = `${JSON.stringify({
      time: FIXED.toISOString(), event: 'access', request_id: value, decision: null, reason: null, route: value, method: null, host: value,
      path: stripQuery(`/${value}`), client_ip: null, user: value, issuer: value, token: null, jti: value, status: 200, duration_ms: 0.125,
      username: value, requirement: value, kind: value,
    })}\n`;
    t.equal(auditLine(event, FIXED), expected, `hostile value #${i}`);
  }
  for (const n of [0, -0, 1.5, 1e21, 1e-7, Number.NaN, Number.POSITIVE_INFINITY]) {
    const line = auditLine({ event: 'access', status: n, duration_ms: n }, FIXED);
    t.match(line, `"status":${JSON.stringify(n)},"duration_ms":${JSON.stringify(n)},`, `number ${n}`);
  }
  t.end();
});

void t.test('the time is Date#toISOString, across second boundaries', (t) => {
  const base = Date.UTC(2025, 0, 2, 3, 4, 5);
  for (const ms of [base, base + 7, base + 42, base + 999, base + 1000, base + 1001, base - 1, 0, Date.UTC(10000, 0, 1, 0, 0, 0, 5)]) {
    const line = auditLine({ event: 'access' }, ms);
    t.equal((JSON.parse(line) as { time: string }).time, new Date(ms).toISOString(), new Date(ms).toISOString());
  }
  t.end();
});
