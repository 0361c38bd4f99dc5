/**
 * Shared checks of the hostile-input tables: the answer of a denial (status, `error`, the audit
 * line's `reason`), "nothing reached the upstream or the IdPs", "the process is still up", a
 * canary listener that must never be contacted (URLs planted in tokens and headers), and a raw
 * socket client for the framing rows that node:http refuses to send.
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { startEchoUpstream } from '../../src/dev/echo-upstream.js';
import type { EchoUpstream } from '../../src/dev/echo-upstream.js';
import type { Harness } from '../support/harness.js';
import { startSidecarProcess } from '../support/sidecar.js';
import type { SidecarProcess } from '../support/sidecar.js';
import { http } from '../support/http.js';
import type { HttpResponse } from '../support/http.js';

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** The audit line of one request (by its X-Request-Id), waiting briefly for the batched sink. */
export async function auditLine(h: { readonly sidecar: SidecarProcess }, requestId: string | string[] | undefined): Promise<Record<string, unknown> | undefined> {
  return (await h.sidecar.waitForAudit((a) => a.request_id === requestId, 1, 1_000))[0];
}

/** What the IdPs have served so far: compared before and after a row. */
export function idpHits(h: Harness): string {
  const c = h.idp.counters();
  return JSON.stringify({ devJwks: c.jwks, devDiscovery: c.discovery, devToken: c.token, testJwks: h.jwks.hits.jwks, testDiscovery: h.jwks.hits.discovery });
}

/**
 * Asserts a denial: status, error code (unless the HTTP parser itself refused the request, with
 * no JSON body), the audit reason when given, and that neither the upstream nor an IdP was
 * contacted because of it.
 */
export async function assertDenied(
  t: Test,
  h: Harness,
  res: HttpResponse,
  expected: { status: number; error?: string; reason?: string; idpBefore: string },
): Promise<void> {
  t.equal(res.status, expected.status, 'status');
  if (expected.error !== undefined) t.equal(res.json().error, expected.error, 'error code');
  if (expected.reason !== undefined) t.equal((await auditLine(h, res.headers['x-request-id']))?.reason, expected.reason, 'audit reason');
  t.equal(h.upstream.requests().length, 0, 'nothing reached the upstream');
  t.equal(idpHits(h), expected.idpBefore, 'no IdP was contacted');
}

export async function assertStillUp(t: Test, h: { readonly sidecar: SidecarProcess }): Promise<void> {
  t.equal(h.sidecar.child.exitCode, null, 'process still running');
  t.equal((await http(`${h.sidecar.adminUrl}/healthz`)).status, 200, 'admin /healthz answers 200');
}

/** A listener that counts every connection: planted URLs (jku, x5u, rd) must never reach it. */
export async function startCanary(t: Test): Promise<{ url: string; hits(): number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

/**
 * Writes `text` to a fresh TCP connection and collects everything the server sends until it
 * closes the connection or `idleMs` pass without data (a server that keeps the connection open).
 */
export function rawExchange(url: string, text: string | Buffer, idleMs = 1_500): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const finish = (): void => {
      socket.destroy();
      resolve(received);
    };
    socket.setTimeout(idleMs, finish);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? finish() : reject(err)));
    socket.write(text);
  });
}

/** Status codes of every HTTP response in a raw exchange, in order. */
export function statuses(raw: string): number[] {
  // Not anchored to a line start: a pipelined answer follows a body without a newline.
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

/** The `error` code of the first JSON error body of a raw exchange. */
export function rawError(raw: string): string | undefined {
  return /"error":"([a-z_]+)"/.exec(raw)?.[1];
}

/** The sidecar process and an echo upstream in front of which a test puts its own issuers. */
export async function startEnv(
  t: Test,
  opts: { issuers: string; routes?: string; extra?: string },
): Promise<{ sidecar: SidecarProcess; upstream: EchoUpstream; yaml: string }> {
  const upstream = await startEchoUpstream();
  const routes = opts.routes ?? `  - name: app\n    match: { path: / }\n    upstream: ${upstream.url}\n`;
  const yaml = `listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\nissuers:\n${opts.issuers}routes:\n${routes.replaceAll('{{UPSTREAM}}', upstream.url)}${opts.extra ?? ''}`;
  const sidecar = await startSidecarProcess(yaml).catch(async (err: unknown) => {
    await upstream.close();
    throw err;
  });
  t.teardown(async () => {
    await sidecar.stop();
    await upstream.close();
  });
  return { sidecar, upstream, yaml };
}

/** Polls `check` until it is true; fails the wait after `timeoutMs` (a bound, not a measurement). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
