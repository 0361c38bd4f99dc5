/**
 * In-process sidecar for the login end-to-end tests: a real development IdP, the echo
 * upstream, and the real request handlers (createHandlers) with the login entry point wired in
 * on a loopback server, the way the lead wires it into startSidecar. Non-login requests whose
 * access cookie is absent but that carry the refresh cookie go through `login.refresh` first.
 * Audit events and operational log lines are captured for leak assertions.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfigText } from '../../src/config/index.js';
import type { RuntimeConfig } from '../../src/config/types.js';
import { startDevIdp } from '../../src/dev/idp.js';
import type { DevIdp, DevIdpOptions } from '../../src/dev/idp.js';
import { startEchoUpstream } from '../../src/dev/echo-upstream.js';
import type { EchoUpstream } from '../../src/dev/echo-upstream.js';
import { createHandlers } from '../../src/http/handler.js';
import { createLogin } from '../../src/login/index.js';
import type { AuditEvent } from '../../src/observe/audit.js';
import { createOpLog } from '../../src/observe/log.js';
import { createMetrics } from '../../src/observe/metrics.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { createProxy } from '../../src/proxy/proxy.js';
import { buildState } from '../../src/runtime/state.js';
import type { RuntimeState } from '../../src/runtime/state.js';

export const COOKIE_SECRET = 'test-cookie-secret-0123456789-abcdefghij';

export interface Harness {
  readonly url: string;
  readonly idp: DevIdp;
  readonly upstream: EchoUpstream;
  readonly metrics: Metrics;
  readonly audit: AuditEvent[];
  readonly logs: string[];
  state(): RuntimeState;
  /** `portcullis_logins_total{kind,result}`. */
  logins(kind: string, result: string): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly idp?: DevIdpOptions;
  /** Extra YAML under `login:` (indented two spaces), e.g. rate_limit. */
  readonly login?: string;
  readonly browser?: boolean;
  /** Clock of the login module (flow and refresh cookie expiry, ID token checks). */
  readonly now?: () => number;
}

function configYaml(idp: DevIdp, publicUrl: string, upstream: string, opts: HarnessOptions): string {
  const browser = opts.browser === false ? '' : '  browser:\n    allowed_redirect_hosts: [allowed.example.org]\n';
  return `listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
public_url: ${publicUrl}
issuers:
  - name: dev
    issuer: ${idp.issuer}
    audiences: [api]
    jwks:
      timeout: 2s
routes:
  - name: app
    match: { path: / }
    upstream: ${upstream}
    auth: required
login:
  client_id: ${idp.clientId}
  client_secret: ${idp.clientSecret}
  password: {}
${browser}  cookie_secret: ${COOKIE_SECRET}
${opts.login ?? ''}`;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const idp = await startDevIdp(opts.idp);
  const upstream = await startEchoUpstream();
  const audit: AuditEvent[] = [];
  const logs: string[] = [];
  const log = createOpLog((line) => logs.push(line));
  const metrics = createMetrics({ tokenSeriesLimit: 100, defaultMetrics: false });
  const recorder = { metrics, audit: { write: (e: AuditEvent) => void audit.push(e), reopen: () => undefined, close: () => Promise.resolve() } };
  const login = createLogin({ recorder, log, ...(opts.now === undefined ? {} : { now: opts.now }) });
  const holder: { state?: RuntimeState } = {};
  const current = (): RuntimeState => {
    if (holder.state === undefined) throw new Error('harness not started');
    return holder.state;
  };
  const proxy = createProxy();
  const handlers = createHandlers({ state: current, proxy, recorder, log, login });
  const server = createServer((req, res) => handlers.onRequest(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp.addRedirectUri(`${publicUrl}/_auth/callback`);
  const loaded = loadConfigText(configYaml(idp, publicUrl, upstream.url, opts), '/tmp/portcullis-login-test.yaml', {});
  if (!loaded.ok) throw new Error(`test config invalid: ${JSON.stringify(loaded.problems)}`);
  const config: RuntimeConfig = loaded.config;
  holder.state = await buildState(config);

  return {
    url: publicUrl,
    idp,
    upstream,
    metrics,
    audit,
    logs,
    state: current,
    async logins(kind, result) {
      const metric = await metrics.registry.getSingleMetric('portcullis_logins_total')?.get();
      return metric?.values.find((v) => v.labels.kind === kind && v.labels.result === result)?.value ?? 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await holder.state?.close();
      await proxy.close();
      await upstream.close();
      await idp.close();
    },
  };
}

/** Everything a test must never find in a body or a log: the secrets of the setup. */
export function assertNoLeak(haystack: string, needles: readonly string[]): string | undefined {
  return needles.find((needle) => needle.length >= 6 && haystack.includes(needle));
}
