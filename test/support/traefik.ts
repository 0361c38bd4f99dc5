/**
 * A real Traefik v3 for the interop tests: started in the foreground as a child process on a
 * free 127.0.0.1 port, with copies of examples/traefik/traefik.yml (static) and dynamic.yml
 * (file provider) whose documented addresses are rewritten to the test's portcullis and
 * application. The example files themselves are used, so they stay true; each address they
 * document must be present or start-up fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { http } from './http.js';
import { freePort } from './http.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples/traefik');
/** The application host of the example's routers; requests name it in `Host`. */
export const APP_HOST = 'app.example.com';

export interface Traefik {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every output line so far (Traefik's log). */
  output(): string[];
  close(): Promise<void>;
}

export interface TraefikOptions {
  /** `http://host:port` of the portcullis main listener. */
  readonly portcullis: string;
  /** `http://host:port` of the application. */
  readonly app: string;
}

function replaceRequired(file: string, text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`${file} no longer contains "${from}"; update test/support/traefik.ts`);
  return text.replaceAll(from, to);
}

/** The `traefik version` output's Version line, e.g. `3.6.12`. */
export function traefikVersion(binary: string): string {
  const out = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 10_000 });
  return /^Version:\s*(\S+)/m.exec(out.stdout)?.[1] ?? `unknown (${out.stdout.trim() || out.stderr.trim()})`;
}

/**
 * Starts Traefik in front of `opts.portcullis` and `opts.app`; resolves once its router
 * answers a request for `probePath` on the application host with something other than 404
 * (the file provider loads after the entry point opens). Throws with the log when it cannot.
 */
export async function startTraefik(binary: string, opts: TraefikOptions, probePath = '/'): Promise<Traefik> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-traefik-'));
  const port = await freePort();
  const staticFile = join(EXAMPLES, 'traefik.yml');
  const dynamicFile = join(EXAMPLES, 'dynamic.yml');
  let staticConf = readFileSync(staticFile, 'utf8');
  staticConf = replaceRequired(staticFile, staticConf, 'address: ":8000"', `address: "127.0.0.1:${port}"`);
  staticConf = replaceRequired(staticFile, staticConf, 'filename: /etc/traefik/dynamic.yml', `filename: ${join(dir, 'dynamic.yml')}`);
  let dynamicConf = readFileSync(dynamicFile, 'utf8');
  dynamicConf = replaceRequired(dynamicFile, dynamicConf, 'http://portcullis:8080', opts.portcullis);
  dynamicConf = replaceRequired(dynamicFile, dynamicConf, 'http://app:3000', opts.app);
  writeFileSync(join(dir, 'traefik.yml'), staticConf);
  writeFileSync(join(dir, 'dynamic.yml'), dynamicConf);

  const child: ChildProcess = spawn(binary, [`--configFile=${join(dir, 'traefik.yml')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (chunk: string): void => void lines.push(...chunk.split('\n').filter((l) => l !== ''));
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolveExit) =>
    child.once('exit', () => {
      exited = true;
      resolveExit();
    }),
  );
  const close = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200 && !exited; i += 1) {
    const res = await http(`${url}${probePath}`, { headers: { host: APP_HOST } }).catch(() => undefined);
    if (res !== undefined && res.status !== 404) return { url, output: () => lines, close };
    await sleep(50);
  }
  await close();
  throw new Error(`Traefik (${binary}) did not start serving the example's routers:\n${lines.join('\n')}`);
}
