/**
 * Starts one real framework app of apps/ as its own process on 127.0.0.1:0 and reads the port
 * from its first stdout line. The app exits when its stdin closes, so it never outlives the
 * suite; it runs without the test runner's NODE_OPTIONS (no coverage loader: it is not
 * portcullis). Flask runs from the venv that scripts/install-flask.sh makes in the cache.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type Framework = 'express4' | 'express5' | 'fastify' | 'koa' | 'flask';

export interface UpstreamApp {
  readonly framework: Framework;
  readonly url: string;
  readonly child: ChildProcess;
  /** The app's stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

const APPS = resolve(import.meta.dirname, 'apps');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export function flaskPython(): string {
  const cache = process.env.PORTCULLIS_CACHE ?? join(homedir(), '.cache', 'portcullis');
  return join(cache, 'venv-flask', 'bin', 'python');
}

function command(framework: Framework): [string, string[]] {
  switch (framework) {
    case 'express4':
    case 'express5':
      return [process.execPath, [join(APPS, 'express.js'), framework]];
    case 'fastify':
      return [process.execPath, [join(APPS, 'fastify.js')]];
    case 'koa':
      return [process.execPath, [join(APPS, 'koa.js')]];
    case 'flask': {
      const python = flaskPython();
      if (!existsSync(python)) throw new Error(`Flask is not installed: run scripts/install-flask.sh (looked for ${python})`);
      return [python, [join(APPS, 'flask_app.py')]];
    }
  }
}

export async function startApp(framework: Framework): Promise<UpstreamApp> {
  const [file, args] = command(framework);
  const { NODE_OPTIONS: _loader, ...env } = process.env;
  const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8_000)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const port = await new Promise<number>((done, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${framework} app did not announce its port:\n${stderr}`)), START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (line === undefined || !out.includes('\n')) return;
      clearTimeout(timer);
      try {
        done((JSON.parse(line) as { port: number }).port);
      } catch {
        fail(new Error(`${framework} app printed ${line}`));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      fail(new Error(`${framework} app exited before listening:\n${stderr}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });

  return {
    framework,
    url: `http://127.0.0.1:${port}`,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
