// Holds observe/log.ts to docs/operations.md: one JSON line per call, a fixed message, exactly
// the whitelisted fields, the query string never logged.
import t from 'tap';
import { createOpLog } from '../../../src/observe/log.js';
import type { OpLog } from '../../../src/observe/log.js';

const FIXED = new Date('2025-01-02T03:04:05.678Z');

function capture(): { log: OpLog; lines: string[] } {
  const lines: string[] = [];
  return { log: createOpLog((line) => lines.push(line), () => FIXED), lines };
}

void t.test('each function emits one line with its fixed message and only its fields', (t) => {
  const rows: { desc: string; call: (log: OpLog) => void; want: Record<string, unknown> }[] = [
    { desc: 'starting', call: (l) => l.starting({ version: '0.1.0', config: '/etc/p.yaml' }), want: { level: 'info', msg: 'starting', version: '0.1.0', config: '/etc/p.yaml' } },
    { desc: 'ready without workers', call: (l) => l.ready({ listen: '127.0.0.1:34567', admin: '127.0.0.1:34568' }), want: { level: 'info', msg: 'ready', listen: '127.0.0.1:34567', admin: '127.0.0.1:34568' } },
    { desc: 'ready with workers', call: (l) => l.ready({ listen: '0.0.0.0:8080', admin: '127.0.0.1:9090', workers: 4 }), want: { level: 'info', msg: 'ready', listen: '0.0.0.0:8080', admin: '127.0.0.1:9090', workers: 4 } },
    { desc: 'jwks refreshed', call: (l) => l.jwksRefreshed({ issuer: 'kc', cause: 'interval', keys: 2 }), want: { level: 'info', msg: 'jwks refreshed', issuer: 'kc', cause: 'interval', keys: 2 } },
    { desc: 'jwks refresh failed', call: (l) => l.jwksRefreshFailed({ issuer: 'kc', cause: 'unknown_kid', detail: 'HTTP 503', keys: 2 }), want: { level: 'warn', msg: 'jwks refresh failed', issuer: 'kc', cause: 'unknown_kid', detail: 'HTTP 503', keys: 2 } },
    { desc: 'upstream error, query stripped', call: (l) => l.upstreamError({ requestId: 'r1', route: 'api', method: 'GET', host: 'app', path: '/api/x?access_token=eyJsecret#f', code: 'ECONNREFUSED' }), want: { level: 'warn', msg: 'upstream error', request_id: 'r1', route: 'api', method: 'GET', host: 'app', path: '/api/x', code: 'ECONNREFUSED' } },
    { desc: 'config reloaded', call: (l) => l.reloaded({ file: '/etc/p.yaml' }), want: { level: 'info', msg: 'config reloaded', file: '/etc/p.yaml' } },
    { desc: 'config reload failed', call: (l) => l.reloadFailed({ file: '/etc/p.yaml', problems: ['p.yaml:3:1 a', 'p.yaml:4:1 b'] }), want: { level: 'error', msg: 'config reload failed', file: '/etc/p.yaml', problems: ['p.yaml:3:1 a', 'p.yaml:4:1 b'] } },
    { desc: 'shutting down', call: (l) => l.shuttingDown({ signal: 'SIGTERM' }), want: { level: 'info', msg: 'shutting down', signal: 'SIGTERM' } },
    { desc: 'stopped', call: (l) => l.stopped(), want: { level: 'info', msg: 'stopped' } },
    { desc: 'audit sink failed', call: (l) => l.auditSinkFailed({ output: '/var/log/a.log', code: 'ENOSPC' }), want: { level: 'error', msg: 'audit sink failed', output: '/var/log/a.log', code: 'ENOSPC' } },
    { desc: 'plugin error', call: (l) => l.pluginError({ authenticator: 'api-keys', code: 'ERR_X' }), want: { level: 'error', msg: 'authenticator failed', authenticator: 'api-keys', code: 'ERR_X' } },
    { desc: 'fatal', call: (l) => l.fatal('listen EADDRINUSE 127.0.0.1:8080'), want: { level: 'error', msg: 'fatal', detail: 'listen EADDRINUSE 127.0.0.1:8080' } },
  ];
  for (const row of rows) {
    const { log, lines } = capture();
    row.call(log);
    t.equal(lines.length, 1, `${row.desc}: one line`);
    const line = lines[0]!;
    t.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), `${row.desc}: newline-terminated single line`);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    t.same(Object.keys(parsed).slice(0, 3), ['time', 'level', 'msg'], `${row.desc}: time, level, msg first`);
    t.strictSame(parsed, { time: FIXED.toISOString(), ...row.want }, `${row.desc}: exact fields`);
  }
  t.end();
});

void t.test('extra properties passed by a caller never reach the line', (t) => {
  const { log, lines } = capture();
  const e = { issuer: 'kc', cause: 'startup', keys: 1, token: 'eyJsecret', authorization: 'Bearer x' };
  log.jwksRefreshed(e);
  t.notMatch(lines[0]!, /eyJsecret|Bearer|authorization|token/);
  t.end();
});

void t.test('a message with a newline stays on one line', (t) => {
  const { log, lines } = capture();
  log.fatal('bad config\n{"level":"info","msg":"forged"}');
  t.equal(lines[0]!.split('\n').length, 2, 'one line plus the terminator');
  t.end();
});

void t.test('the default writer is process.stderr', (t) => {
  const seen: string[] = [];
  t.capture(process.stderr, 'write', (chunk: string) => seen.push(chunk) > 0);
  createOpLog().stopped();
  t.equal(seen.length, 1);
  t.match(JSON.parse(seen[0]!), { level: 'info', msg: 'stopped', time: /^\d{4}-\d\d-\d\dT/ });
  t.end();
});
