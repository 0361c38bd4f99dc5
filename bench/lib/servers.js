/**
 * The Node servers under test as their own processes, pinned to the server cores: the minimal
 * static server (bench/lib/static-server.js) and the built sidecar (`dist/cli/main.js serve`)
 * with a config written to the run's temp folder. Also the shared process plumbing (spawn,
 * line capture, port probing, stop) the nginx and Apache starters use.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinned } from './proc.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const STATIC = resolve(import.meta.dirname, 'static-server.js');
const REF_AUTH = resolve(import.meta.dirname, 'ref-auth-server.js');
const REF_PROXY = resolve(import.meta.dirname, 'ref-proxy-server.js');

/**
 * Spawns `command args` pinned to `cpus`; `readyLine(line, stream)` returns a value once the
 * process is ready (or undefined to keep waiting). Resolves `{ pid, ready, lines, stop }`.
 */
export function spawnServer({ name, command, args, cpus, stdout = 'pipe', readyLine, timeoutMs = 20_000 }) {
  const [cmd, argv] = pinned(cpus, command, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', stdout, 'pipe'] });
  const lines = [];
  const exit = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(timer);
  };
  return new Promise((resolveStart, reject) => {
    let done = false;
    const finish = (err, ready) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        void stop().then(() => reject(err));
        return;
      }
      resolveStart({ name, pid: /** @type {number} */ (child.pid), ready, lines, stop, exited: exit });
    };
    const timer = setTimeout(() => finish(new Error(`${name} did not start in ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    const collect = (stream, which) => {
      let buf = '';
      stream?.setEncoding('utf8').on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (lines.length < 200) lines.push(line);
          const ready = done ? undefined : readyLine?.(line, which);
          if (ready !== undefined) finish(undefined, ready);
        }
      });
    };
    collect(child.stdout, 'stdout');
    collect(child.stderr, 'stderr');
    void exit.then((code) => finish(new Error(`${name} exited (${String(code)}) before it was ready:\n${lines.join('\n')}`)));
    if (readyLine === undefined) finish(undefined, true);
  });
}

/** A free 127.0.0.1 port (for servers that cannot listen on port 0 and report it). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolvePort(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolveConnect) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

/** Waits until 127.0.0.1:`port` accepts, or `server` exits (throws with its output). */
export async function waitForPort(server, port, timeoutMs = 20_000) {
  let exited = false;
  void server.exited.then(() => (exited = true));
  for (const end = Date.now() + timeoutMs; Date.now() < end && !exited; ) {
    if (await accepts(port)) return;
    await sleep(25);
  }
  await server.stop();
  throw new Error(`${server.name} is not listening on ${port}:\n${server.lines.join('\n')}`);
}

/** A bench Node script that prints `{"port":N}` on stdout once it listens; `url` is its origin. */
async function startNodeScript(cpus, name, script, args = [], nodeArgs = []) {
  const server = await spawnServer({
    name,
    command: process.execPath,
    args: [...nodeArgs, script, ...args],
    cpus,
    readyLine: (line, stream) => (stream === 'stdout' ? JSON.parse(line).port : undefined),
  });
  return { ...server, url: `http://127.0.0.1:${server.ready}` };
}

/** The minimal static Node server (reads the headers, answers 200). */
export const startStatic = (cpus, name = 'node-static') => startNodeScript(cpus, name, STATIC);

/** The minimal authenticating Node server (jose + a Map LRU) over `jwks` for `issuer`/`audience`. */
export const startRefAuth = (cpus, { jwks, issuer, audience }) =>
  startNodeScript(cpus, 'node-auth', REF_AUTH, [JSON.stringify(jwks), issuer, audience]);

/** The minimal undici reverse proxy to `upstream` (no auth). */
export const startRefProxy = (cpus, upstream) => startNodeScript(cpus, 'node-proxy', REF_PROXY, [upstream]);

/**
 * The sidecar from the built CLI with `yaml` as its config (written to `dir`). The audit log
 * (stdout) goes to /dev/null: it is produced and serialised as in production, never read.
 * `nodeArgs` go before the script (e.g. `--cpu-prof`).
 */
export async function startSidecar({ cpus, yaml, dir, name = 'portcullis', nodeArgs = [] }) {
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(configFile, yaml);
  const server = await spawnServer({
    name,
    command: process.execPath,
    args: [...nodeArgs, CLI, 'serve', '-c', configFile],
    cpus,
    stdout: 'ignore',
    readyLine: (line, stream) => (stream === 'stderr' && line.includes('"msg":"ready"') ? JSON.parse(line) : undefined),
  });
  return { ...server, url: `http://${server.ready.listen}`, adminUrl: `http://${server.ready.admin}` };
}
