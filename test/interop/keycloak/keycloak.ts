/**
 * A real Keycloak for the interop suites: installed by `scripts/install-keycloak.sh` (cached),
 * started with `kc.sh start-dev` on free loopback ports with the realm of `realm.json`
 * imported, its data (H2 database) in a temporary Keycloak home of its own, and stopped (the
 * whole process group) at `close()` or when the test process exits.
 *
 * Keycloak is slow to start (minutes on a loaded two-core machine, more on its first start,
 * which builds its configuration): start it once per test file and share it between subtests.
 * `stop()` and `restart()` keep the data and the ports, so the issuer URL, the users and the
 * signing keys survive a restart.
 *
 * Keycloak listens on 127.0.0.1 but its URL and issuer name `localhost`, while the sidecars use
 * 127.0.0.1: to a browser they are two sites, as a real IdP and an application are (ports alone
 * would not make two sites).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../support/http.js';

export const REALM_FILE = resolve(import.meta.dirname, 'realm.json');
const INSTALL_SCRIPT = resolve(import.meta.dirname, '../../../scripts/install-keycloak.sh');

/** The realm of `realm.json`: names and secrets a test needs. */
export const REALM = {
  name: 'portcullis',
  /** Confidential client with the standard flow and direct access grants (portcullis login). */
  client: { id: 'portcullis', secret: 'portcullis-interop-client-secret' },
  /** Public client with direct access grants and 5-minute access tokens (tests mint with it). */
  cliClient: 'portcullis-cli',
  /** Public client without the audience mapper: its tokens carry Keycloak's default `aud`. */
  noAudienceClient: 'no-audience',
  /** The audience the mapper adds, and the client that holds the client roles. */
  audience: 'portcullis-api',
  /** Every user's password is `<username>-password`. */
  users: ['alice', 'bob', 'carol', 'many'] as const,
} as const;

export const password = (username: string): string => `${username}-password`;

const ADMIN_USER = 'admin';
const ADMIN_PASSWORD = 'portcullis-interop-admin';

export interface TokenResponse {
  readonly access_token: string;
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly id_token?: string;
  readonly token_type: string;
}

/** A realm endpoint's answer to a client: status and JSON body. */
export interface ClientAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface Keycloak {
  readonly version: string;
  /** `http://localhost:<port>` */
  readonly url: string;
  /** The realm's issuer, `<url>/realms/portcullis`. */
  readonly issuer: string;
  /** A master-realm admin access token (cached while it has 10 s left). */
  adminToken(): Promise<string>;
  /** A call of the admin REST API under `/admin/realms/<realm>`; throws unless 2xx. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** The password grant at the realm's token endpoint; throws unless 200. */
  passwordGrant(clientId: string, username: string, opts?: { secret?: string; scope?: string }): Promise<TokenResponse>;
  /**
   * A POST of the confidential `portcullis` client (HTTP Basic) to a realm endpoint under
   * `protocol/openid-connect/` (`token`, `token/introspect`, …).
   */
  clientCall(endpoint: string, form: Record<string, string>): Promise<ClientAnswer>;
  /** The user's live Keycloak sessions (admin REST API): session id to the client ids signed in through it. */
  userSessions(userId: string): Promise<Map<string, string[]>>;
  /** The last lines of Keycloak's output (for failure messages). */
  logTail(lines?: number): string;
  /** Stops Keycloak (SIGTERM to its process group, SIGKILL after 60 s); keeps its data. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data, and waits for its health. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

export interface KeycloakOptions {
  readonly realmFile?: string;
  /** Bound of the wait for `/health/ready` (default KEYCLOAK_START_TIMEOUT_SEC or 600 s). */
  readonly startTimeoutMs?: number;
}

interface Installed {
  readonly version: string;
  readonly home: string;
}

/** Runs the (idempotent) install script and reads its two `KEY=value` lines. */
export function installKeycloak(): Installed {
  const run = spawnSync('bash', [INSTALL_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30 * 60_000 });
  if (run.status !== 0) throw new Error(`install-keycloak.sh failed (${run.status ?? run.signal}):\n${run.stderr}`);
  const values = new Map(run.stdout.split('\n').flatMap((line) => {
    const i = line.indexOf('=');
    return i > 0 ? [[line.slice(0, i), line.slice(i + 1)] as const] : [];
  }));
  const version = values.get('KEYCLOAK_VERSION');
  const home = values.get('KEYCLOAK_HOME');
  if (version === undefined || home === undefined) throw new Error(`install-keycloak.sh printed no version or home:\n${run.stdout}`);
  return { version, home };
}

/**
 * A Keycloak home of its own for one run: `bin/kc.sh` copied (kc.sh takes its home from its own
 * resolved path), the installed `lib`, `conf`, `providers` and `themes` linked, and `data/`
 * (database, realm import) local. The built configuration under lib/quarkus is shared, so
 * only the first start of an installation builds it.
 */
function makeHome(installed: string, realmFile: string): string {
  const home = mkdtempSync(join(tmpdir(), 'portcullis-keycloak-'));
  mkdirSync(join(home, 'bin'));
  copyFileSync(join(installed, 'bin', 'kc.sh'), join(home, 'bin', 'kc.sh'));
  for (const dir of ['lib', 'conf', 'providers', 'themes']) symlinkSync(join(installed, dir), join(home, dir));
  mkdirSync(join(home, 'data', 'import'), { recursive: true });
  copyFileSync(realmFile, join(home, 'data', 'import', 'realm.json'));
  return home;
}

export async function startKeycloak(opts: KeycloakOptions = {}): Promise<Keycloak> {
  const installed = installKeycloak();
  const home = makeHome(installed.home, opts.realmFile ?? REALM_FILE);
  const [port, managementPort] = [await freePort(), await freePort()];
  const url = `http://localhost:${port}`;
  const issuer = `${url}/realms/${REALM.name}`;
  const timeoutMs = opts.startTimeoutMs ?? Number(process.env.KEYCLOAK_START_TIMEOUT_SEC ?? 600) * 1000;
  const output: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const killGroup = (signal: NodeJS.Signals): void => {
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  // Keycloak runs in its own process group: end it when this process ends, by exit or signal
  // (a signal is raised again once the group is gone, so it still ends this process).
  const onExit = (): void => killGroup('SIGKILL');
  const onSignal = (signal: NodeJS.Signals): void => {
    onExit();
    process.kill(process.pid, signal);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  process.on('exit', onExit);
  for (const signal of signals) process.once(signal, onSignal);

  function launch(): void {
    const proc = spawn(
      join(home, 'bin', 'kc.sh'),
      [
        'start-dev',
        '--import-realm',
        '--http-host=127.0.0.1',
        `--http-port=${port}`,
        `--http-management-port=${managementPort}`,
        `--hostname=${url}`,
        '--health-enabled=true',
      ],
      {
        cwd: home,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          KC_BOOTSTRAP_ADMIN_USERNAME: ADMIN_USER,
          KC_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
          // Only the first JIT tier: a test Keycloak lives for minutes, and C2 compiles cost a
          // loaded machine more start-up time than they give back.
          JAVA_OPTS_APPEND: '-XX:TieredStopAtLevel=1',
        },
      },
    );
    for (const stream of [proc.stdout, proc.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output.push(...chunk.split('\n').filter((l) => l !== ''));
        if (output.length > 2000) output.splice(0, output.length - 2000);
      });
    }
    child = proc;
    exited = new Promise((done) => proc.once('exit', () => done()));
  }

  const logTail = (lines = 40): string => output.slice(-lines).join('\n');

  async function waitReady(): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void exited.then(() => (gone = true));
    while (Date.now() < deadline) {
      if (gone) throw new Error(`Keycloak exited while starting:\n${logTail()}`);
      try {
        const res = await fetch(`http://127.0.0.1:${managementPort}/health/ready`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        if (res.status === 200) {
          // Keycloak's first token request after a start is slow (cold code paths): pay it here.
          admin = undefined;
          await adminToken();
          return;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(1_000);
    }
    throw new Error(`Keycloak not ready after ${timeoutMs / 1000} s:\n${logTail()}`);
  }

  async function stop(): Promise<void> {
    killGroup('SIGTERM');
    const timer = setTimeout(() => killGroup('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }

  let admin: { token: string; until: number } | undefined;
  async function adminToken(): Promise<string> {
    if (admin !== undefined && admin.until > Date.now()) return admin.token;
    const res = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: ADMIN_USER, password: ADMIN_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`admin token: HTTP ${res.status}`);
    const body = (await res.json()) as TokenResponse;
    admin = { token: body.access_token, until: Date.now() + (body.expires_in - 10) * 1000 };
    return admin.token;
  }

  const kc: Keycloak = {
    version: installed.version,
    url,
    issuer,
    adminToken,
    async admin(method, path, body) {
      const res = await fetch(`${url}/admin/realms/${REALM.name}${path}`, {
        method,
        headers: { authorization: `Bearer ${await adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.status < 200 || res.status > 299) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
      return res;
    },
    async passwordGrant(clientId, username, grantOpts = {}) {
      const headers: Record<string, string> = {};
      const form = new URLSearchParams({ grant_type: 'password', username, password: password(username), scope: grantOpts.scope ?? 'openid' });
      if (grantOpts.secret === undefined) form.set('client_id', clientId);
      else headers.authorization = `Basic ${Buffer.from(`${clientId}:${grantOpts.secret}`).toString('base64')}`;
      const res = await fetch(`${issuer}/protocol/openid-connect/token`, { method: 'POST', headers, body: form });
      if (res.status !== 200) throw new Error(`password grant for ${username} at ${clientId}: HTTP ${res.status}`);
      return (await res.json()) as TokenResponse;
    },
    async clientCall(endpoint, form) {
      const res = await fetch(`${issuer}/protocol/openid-connect/${endpoint}`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${REALM.client.id}:${REALM.client.secret}`).toString('base64')}` },
        body: new URLSearchParams(form),
      });
      const text = await res.text(); // the revocation endpoint answers 200 with no body
      return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    },
    async userSessions(userId) {
      const sessions = (await (await kc.admin('GET', `/users/${encodeURIComponent(userId)}/sessions`)).json()) as Array<{ id: string; clients: Record<string, string> }>;
      return new Map(sessions.map((s) => [s.id, Object.values(s.clients)]));
    },
    logTail,
    stop,
    async restart() {
      await stop();
      launch();
      await waitReady();
    },
    async close() {
      await stop();
      process.off('exit', onExit);
      for (const signal of signals) process.off(signal, onSignal);
      rmSync(home, { recursive: true, force: true });
    },
  };

  launch();
  try {
    await waitReady();
  } catch (err) {
    await kc.close();
    throw err;
  }
  return kc;
}
