/**
 * The CI-sized soak: `soak/run.js` for 20 seconds against the built sidecar (IdP down at
 * start, mixed valid and invalid tokens, a slow plug-in, aborted clients, random-kid floods,
 * WebSocket churn, SIGHUP reloads, some with a slow plug-in request in flight, final SIGTERM).
 * Asserts its verdict and the figures it prints.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../soak/run.js');

t.test('20-second soak: every request answered, upstream sees exactly the allowed ones, flat resources, exit 0', async (t) => {
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, SOAK_SECONDS: '20' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  const line = stdout.split('\n').find((l) => l.startsWith('SOAK '));
  t.ok(line, 'the soak printed its figures');
  const result = JSON.parse(line?.slice(5) ?? '{}') as { ok: boolean; failures: string[]; figures: Record<string, number | boolean> };
  t.same(result.failures, [], stderr);
  t.equal(code, 0, 'soak exit code');
  const f = result.figures;
  t.equal(f.lost, 0, 'no request lost');
  t.equal(f.hung, 0, 'no request hung');
  t.equal(f.upstreamAllowedMissingOrDuplicated, 0, 'every allowed request reached the upstream once');
  t.equal(f.upstreamDeniedLeaked, 0, 'no denied request reached the upstream');
  t.ok([f.allowed, f.denied, f.ws, f.aborted, f.slowPlugin].every((n) => Number(n ?? 0) > 0), 'every kind of load ran');
  t.ok(Number(f.reloads ?? 0) >= 1, 'SIGHUP reloads happened under load');
  t.ok(Number(f.reloadsInFlight ?? 0) >= 1, 'SIGHUPs landed with a slow plug-in request in flight, which still answered 200');
  t.equal(f.notReadyDuringOutage, true, '/readyz 503 while the IdP was down at start');
  t.equal(f.readyAfterOutage, true, '/readyz 200 after the IdP came up, within one retry step');
  t.equal(f.exitCode, 0, 'the sidecar exited 0 on SIGTERM');
});

