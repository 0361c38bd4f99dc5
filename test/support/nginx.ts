/**
 * A real nginx for end-to-end tests: started in the foreground as a child process
 * (`daemon off; master_process off`) on a free 127.0.0.1 port, with every path (pid, temp
 * folders, logs) inside a temp prefix folder, serving a copy of examples/nginx/portcullis.conf
 * whose addresses are rewritten to the test's sidecar and application. The example file itself
 * is used, so it stays true; each address it documents must be present or start-up fails.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './http.js';

export const EXAMPLE = resolve(import.meta.dirname, '../../examples/nginx/portcullis.conf');

export interface Nginx {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every stderr line so far (nginx's error log). */
  stderr(): string[];
  close(): Promise<void>;
}

export interface NginxOptions {
  /** host:port of the portcullis main listener. */
  readonly sidecar: string;
  /** host:port of the application behind nginx. */
  readonly app: string;
}

/** The nginx binary: $NGINX, /usr/sbin/nginx, or `nginx` on PATH; undefined when none. */
export function findNginx(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  const candidates = [process.env.NGINX, '/usr/sbin/nginx', ...dirs.map((d) => join(d, 'nginx'))];
  return candidates.find((file) => {
    if (!file) return false;
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function replaceRequired(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`${EXAMPLE} no longer contains "${from}"; update test/support/nginx.ts`);
  return text.replaceAll(from, to);
}

/** The example with its documented addresses pointed at the test's processes. */
export function rewriteExample(opts: NginxOptions, port: number): string {
  let conf = readFileSync(EXAMPLE, 'utf8');
  conf = replaceRequired(conf, 'server 127.0.0.1:8080;', `server ${opts.sidecar};`);
  conf = replaceRequired(conf, 'server 127.0.0.1:3000;', `server ${opts.app};`);
  return replaceRequired(conf, 'listen 8000;', `listen 127.0.0.1:${port};`);
}

function mainConfig(dir: string): string {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/portcullis.conf;
}
`;
}

/** Whether 127.0.0.1:`port` accepts a TCP connection now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

type Started = { ok: true; nginx: Nginx } | { ok: false; addressInUse: boolean; log: string };

async function startOnce(binary: string, opts: NginxOptions): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-nginx-'));
  const port = await freePort();
  writeFileSync(join(dir, 'portcullis.conf'), rewriteExample(opts, port));
  writeFileSync(join(dir, 'nginx.conf'), mainConfig(dir));
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter((l) => l !== '')));
  let exited = false;
  const exit = new Promise<void>((resolveExit) =>
    child.once('exit', () => {
      exited = true;
      resolveExit();
    }),
  );
  const close = async (): Promise<void> => {
    if (!exited) child.kill('SIGKILL');
    await exit;
    rmSync(dir, { recursive: true, force: true });
  };

  for (let i = 0; i < 200 && !exited; i += 1) {
    if (await accepts(port)) {
      return { ok: true, nginx: { url: `http://127.0.0.1:${port}`, stderr: () => lines, close } };
    }
    await sleep(25);
  }
  await close();
  const log = lines.join('\n');
  return { ok: false, addressInUse: log.includes('Address already in use'), log };
}

/** Starts nginx in front of `opts.sidecar` and `opts.app`; throws a clear error when it cannot. */
export async function startNginx(opts: NginxOptions): Promise<Nginx> {
  const binary = findNginx();
  if (binary === undefined) {
    throw new Error('nginx not found ($NGINX, /usr/sbin/nginx, PATH); install it: apt-get install -y nginx');
  }
  let started = await startOnce(binary, opts);
  if (!started.ok && started.addressInUse) started = await startOnce(binary, opts);
  if (!started.ok) throw new Error(`nginx (${binary}) did not start:\n${started.log}`);
  return started.nginx;
}
