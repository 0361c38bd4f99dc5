/**
 * The differential run against one framework: the real app as the upstream, the built CLI in
 * front of it with the routes of routes.ts, and raw-socket requests from the corpus and from
 * the generator. For every answer that came from an app handler (`x-handler`), the audit line
 * of its `X-Request-Id` names the route that judged it, and that route must cover the handler
 * (routes.ts `covers`); an answer without the header is a refusal (by portcullis, Node's parser
 * or the app's router) and always passes.
 *
 * Environment: DIFFERENTIAL_SEED replays a run, DIFFERENTIAL_RUNS sets the number of generated
 * cases (default 300), DIFFERENTIAL_RECORD=1 appends the minimal failing cases to corpus.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Test } from 'tap';
import fc from 'fast-check';
import { rsaKey } from '../support/keys.js';
import { startJwksServer } from '../support/jwks-server.js';
import { mint } from '../support/tokens.js';
import { startSidecarProcess } from '../support/sidecar.js';
import type { SidecarProcess } from '../support/sidecar.js';
import { rawExchange } from '../hostile/support.js';
import { caseArbitrary, describe, requestBytes, toWire } from './cases.js';
import type { TokenName, WireRequest } from './cases.js';
import { ADMIN_HOST, USER_ROLES, cause, covers, routesYaml } from './routes.js';
import { startApp } from './upstream-app.js';
import type { Framework } from './upstream-app.js';

const CORPUS_FILE = resolve(import.meta.dirname, 'corpus.json');
const DEFAULT_RUNS = 300;
/** Requests in flight at once: enough to keep the run short, few enough for a shared machine. */
const CONCURRENCY = 4;
/** A request that gets no answer in this long (idle) is reported as unanswered. */
const ANSWER_IDLE_MS = 10_000;
const AUDIT_WAIT_MS = 10_000;
/** Bound on the sidecar's start: generous, as the whole suite may share a loaded machine. */
const READY_TIMEOUT_MS = 60_000;
/** Property evaluations spent shrinking one failure class (a bound, not a measurement). */
const SHRINK_BUDGET = 50;

interface Env {
  readonly sidecar: SidecarProcess;
  readonly tokens: Readonly<Record<TokenName, string | undefined>>;
}

interface Answer {
  /** 0 when nothing came back. */
  readonly status: number;
  readonly handler?: string;
  readonly seenPath?: string;
  readonly requestId?: string;
}

interface Verdict {
  readonly ok: boolean;
  readonly answer: Answer;
  readonly route?: string;
  /** `handler <- route (cause)` for a violation; `unanswered` or `handler <- ?` when it can't be judged. */
  readonly kind?: string;
  /** A handler ran under a route that does not cover it (not a request that could not be judged). */
  readonly violation?: boolean;
  readonly detail?: string;
}

/** The fields of an audit access line the verdict reads. */
interface AuditAccess {
  readonly route: string;
  readonly method: string;
  readonly host: string | null;
  readonly path: string;
}

interface CorpusEntry extends WireRequest {
  readonly found?: Readonly<Record<string, string>>;
}

interface Corpus {
  readonly about: string;
  readonly cases: CorpusEntry[];
}

export function readCorpus(): Corpus {
  return JSON.parse(readFileSync(CORPUS_FILE, 'utf8')) as Corpus;
}

/** The app's `x-seen-path`, decoded unless it holds bytes that are not UTF-8. */
function decodedOrAsIs(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseAnswer(raw: string): Answer {
  const head = raw.split('\r\n\r\n')[0] ?? '';
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const seen = headers.get('x-seen-path');
  return {
    status,
    ...(headers.has('x-handler') ? { handler: headers.get('x-handler') } : {}),
    ...(seen === undefined ? {} : { seenPath: decodedOrAsIs(seen) }),
    ...(headers.has('x-request-id') ? { requestId: headers.get('x-request-id') } : {}),
  };
}

async function send(env: Env, req: WireRequest): Promise<Answer> {
  const raw = await rawExchange(env.sidecar.url, requestBytes(req, env.tokens[req.token]), ANSWER_IDLE_MS);
  return parseAnswer(raw);
}

/** Judges answers against the audit lines of their request ids (one wait for the whole batch). */
async function judge(env: Env, reqs: readonly WireRequest[], answers: readonly Answer[]): Promise<Verdict[]> {
  const wanted = new Set(answers.filter((a) => a.handler !== undefined).map((a) => a.requestId));
  const lines = wanted.size === 0 ? [] : await env.sidecar.waitForAudit((l) => wanted.has(l.request_id as string), wanted.size, AUDIT_WAIT_MS);
  const byId = new Map(lines.map((l) => [l.request_id, l]));
  return answers.map((answer, i) => {
    const req = reqs[i]!;
    if (answer.status === 0) return { ok: false, answer, kind: 'unanswered', detail: 'no HTTP answer' };
    if (answer.handler === undefined) return { ok: true, answer };
    const line = byId.get(answer.requestId) as AuditAccess | undefined;
    if (line === undefined) return { ok: false, answer, kind: `${answer.handler} <- ?`, detail: 'served, but no audit line names the route that judged it' };
    const route = line.route === 'none' ? undefined : line.route;
    if (covers(route, answer.handler, req.method)) return { ok: true, answer, ...(route ? { route } : {}) };
    const why = cause(route, answer.handler, line.method, line.host ?? '', line.path);
    return {
      ok: false,
      answer,
      ...(route ? { route } : {}),
      kind: `${answer.handler} <- ${route ?? 'none'} (${why})`,
      violation: true,
      detail: `portcullis judged ${line.method} ${line.host ?? '(no host)'} ${line.path} by route ${route ?? 'none'}; ` +
        `the app ran handler ${answer.handler} on ${answer.seenPath ?? '?'} (status ${answer.status})`,
    };
  });
}

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

async function startEnv(t: Test, framework: Framework): Promise<Env> {
  const key = rsaKey();
  const [jwks, app] = await Promise.all([startJwksServer([key.jwk]), startApp(framework)]);
  t.teardown(() => Promise.all([jwks.close(), app.stop()]));
  const yaml = `listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
issuers:
  - name: test
    issuer: ${jwks.url}
    audiences: [api]
routes:
${routesYaml(app.url)}
`;
  const sidecar = await startSidecarProcess(yaml, { readyTimeoutMs: READY_TIMEOUT_MS });
  t.teardown(() => sidecar.stop());
  const now = Math.floor(Date.now() / 1000);
  const token = (roles: readonly string[]): Promise<string> =>
    mint(key, { iss: jwks.url, sub: 'user-1', aud: 'api', iat: now - 5, exp: now + 3_600, realm_access: { roles } });
  return { sidecar, tokens: { user: await token(USER_ROLES), admin: await token(['admin']), none: undefined } };
}

/** Requests that must reach each handler: the apps and the labels work, so a pass means something. */
async function baseline(t: Test, env: Env): Promise<void> {
  const rows: Array<[TokenName, string, string, string | undefined]> = [
    ['none', 'app.example.test', '/public/info', 'public'],
    ['none', 'app.example.test', '/other', 'catchall'],
    ['user', 'app.example.test', '/reports/q1', 'reports'],
    ['user', 'app.example.test', '/api/internal/keys', 'internal'],
    ['admin', 'app.example.test', '/admin/users', 'admin'],
    ['admin', ADMIN_HOST, '/anything', 'host-admin'],
    ['user', 'app.example.test', '/admin/users', undefined],
    ['user', ADMIN_HOST, '/', undefined],
  ];
  for (const [token, host, target, handler] of rows) {
    const answer = await send(env, { method: 'GET', target, host, token });
    t.equal(answer.handler, handler, `GET ${target} (Host: ${host}, token: ${token}) runs ${handler ?? 'no handler'}`);
    if (handler !== undefined) t.equal(answer.seenPath, target, 'the app saw the path as sent');
    else t.equal(answer.status, 403, 'refused by portcullis');
  }
}

async function replayCorpus(t: Test, env: Env): Promise<void> {
  const { cases } = readCorpus();
  const reqs: WireRequest[] = cases.map(({ method, target, host, token }) => ({ method, target, host, token }));
  const verdicts = await judge(env, reqs, await inBatches(reqs, (r) => send(env, r)));
  verdicts.forEach((v, i) => t.ok(v.ok, `corpus: ${describe(reqs[i]!)}${v.ok ? '' : ` -> ${v.kind}: ${v.detail}`}`));
}

/** Shrinks the first generated case of a failure class, keeping the class: the case and its verdict. */
async function shrink(env: Env, seed: number, index: number, kind: string): Promise<{ req: WireRequest; verdict: Verdict } | undefined> {
  let budget = SHRINK_BUDGET;
  let smallest: { req: WireRequest; verdict: Verdict } | undefined;
  await fc.check(
    fc.asyncProperty(caseArbitrary, async (c) => {
      if (budget-- <= 0) return true;
      const req = toWire(c);
      const [verdict] = await judge(env, [req], [await send(env, req)]);
      if (verdict?.kind !== kind) return true;
      smallest = { req, verdict };
      return false;
    }),
    { seed, path: String(index) },
  );
  return smallest;
}

function recordInCorpus(found: ReadonlyArray<{ req: WireRequest; meta: Record<string, string> }>): number {
  const corpus = readCorpus();
  const key = (r: WireRequest): string => JSON.stringify([r.method, r.target, r.host, r.token]);
  const known = new Set(corpus.cases.map(key));
  const added = found.filter(({ req }) => !known.has(key(req)));
  for (const { req, meta } of added) corpus.cases.push({ ...req, found: meta });
  writeFileSync(CORPUS_FILE, `${JSON.stringify(corpus, null, 2)}\n`);
  return added.length;
}

async function generated(t: Test, env: Env, framework: Framework): Promise<void> {
  const seed = Number(process.env.DIFFERENTIAL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const runs = Number(process.env.DIFFERENTIAL_RUNS ?? DEFAULT_RUNS);
  const cases = fc.sample(caseArbitrary, { seed, numRuns: runs });
  const reqs = cases.map(toWire);
  const verdicts = await judge(env, reqs, await inBatches(reqs, (r) => send(env, r)));

  const served = verdicts.filter((v) => v.answer.handler !== undefined).length;
  t.comment(`${framework}: seed ${seed}, ${runs} cases, ${served} served by a handler, ${runs - served} refused`);

  const firstOfKind = new Map<string, number>();
  verdicts.forEach((v, i) => {
    if (!v.ok && v.kind !== undefined && !firstOfKind.has(v.kind)) firstOfKind.set(v.kind, i);
  });
  const failures: Array<{ req: WireRequest; meta: Record<string, string> }> = [];
  for (const [kind, index] of firstOfKind) {
    // Only violations are shrunk: a request that got no answer or no audit line would only wait again.
    const found = { req: reqs[index]!, verdict: verdicts[index]! };
    const { req, verdict } = (found.verdict.violation === true && (await shrink(env, seed, index, kind))) || found;
    failures.push({ req, meta: { framework, kind, detail: verdict.detail ?? '' } });
  }
  if (failures.length > 0 && process.env.DIFFERENTIAL_RECORD === '1') {
    t.comment(`${recordInCorpus(failures)} new case(s) written to corpus.json`);
  }
  t.same(
    failures.map(({ req, meta }) => `${meta.kind}: ${describe(req)} — ${meta.detail}`),
    [],
    `every handler ran under a route that covers it (${framework}, seed ${seed}; DIFFERENTIAL_SEED=${seed} replays)`,
  );
}

export async function runDifferential(t: Test, framework: Framework): Promise<void> {
  let env: Env;
  try {
    env = await startEnv(t, framework);
  } catch (err) {
    t.fail(`the ${framework} app and portcullis start`, { error: err });
    return;
  }
  await t.test('baseline: each handler is reachable and labelled', (t) => baseline(t, env));
  await t.test('corpus: every case that ever failed', (t) => replayCorpus(t, env));
  await t.test('generated request targets', (t) => generated(t, env, framework));
}
