/**
 * Spawns the built CLI (`dist/cli/main.js`) as a real process with a config written to a temp
 * folder, waits for its `ready` line on stderr and hands back its addresses and output.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface SidecarProcess {
  readonly url: string;
  readonly adminUrl: string;
  readonly configFile: string;
  readonly child: ChildProcess;
  /** Every stderr line so far (operational log). */
  stderr(): string[];
  /** Every stdout line so far (audit log by default). */
  stdout(): string[];
  /** JSON lines of stdout that parse. */
  audit(): Array<Record<string, unknown>>;
  /**
   * Audit lines matching `predicate`, once there are at least `count` of them (the sink
   * batches its writes, so lines arrive shortly after the answers); what there is at timeout.
   */
  waitForAudit(predicate: (line: Record<string, unknown>) => boolean, count?: number, timeoutMs?: number): Promise<Array<Record<string, unknown>>>;
  /** Waits for a stderr line that contains `text`. */
  waitForLog(text: string, timeoutMs?: number): Promise<string>;
  signal(sig: NodeJS.Signals): void;
  exited(): Promise<number | null>;
  stop(): Promise<number | null>;
}

export function writeConfig(yaml: string, dir = mkdtempSync(join(tmpdir(), 'portcullis-'))): string {
  const file = join(dir, 'portcullis.yaml');
  writeFileSync(file, yaml);
  return file;
}

function lineCollector(stream: NodeJS.ReadableStream | null, lines: string[], onLine: () => void): void {
  let buf = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      onLine();
    }
  });
}

export async function runCli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(opts.input ?? '');
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

export async function startSidecarProcess(
  yaml: string,
  opts: { env?: NodeJS.ProcessEnv; configFile?: string; readyTimeoutMs?: number } = {},
): Promise<SidecarProcess> {
  const configFile = opts.configFile ?? writeConfig(yaml);
  if (opts.configFile) writeFileSync(configFile, yaml);
  const child = spawn(process.execPath, [CLI, 'serve', '-c', configFile], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errLines: string[] = [];
  const outLines: string[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of waiters) w();
  };
  lineCollector(child.stderr, errLines, notify);
  lineCollector(child.stdout, outLines, notify);
  const exit = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  function waitForLog(text: string, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolveWait, reject) => {
      const check = (): boolean => {
        const line = errLines.find((l) => l.includes(text));
        if (line !== undefined) {
          waiters.delete(onLine);
          clearTimeout(timer);
          resolveWait(line);
          return true;
        }
        return false;
      };
      const onLine = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(onLine);
        reject(new Error(`timed out waiting for "${text}" in stderr:\n${errLines.join('\n')}`));
      }, timeoutMs);
      if (check()) return;
      waiters.add(onLine);
      void exit.then(() => {
        if (!check()) {
          waiters.delete(onLine);
          clearTimeout(timer);
          reject(new Error(`sidecar exited before "${text}":\n${errLines.join('\n')}`));
        }
      });
    });
  }

  function audit(): Array<Record<string, unknown>> {
    return outLines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  const readyLine = await waitForLog('"msg":"ready"', opts.readyTimeoutMs ?? 60_000).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const ready = JSON.parse(readyLine) as { listen: string; admin: string };
  return {
    url: `http://${ready.listen}`,
    adminUrl: `http://${ready.admin}`,
    configFile,
    child,
    stderr: () => errLines,
    stdout: () => outLines,
    audit,
    async waitForAudit(predicate, count = 1, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      let found = audit().filter(predicate);
      while (found.length < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        found = audit().filter(predicate);
      }
      return found;
    },
    waitForLog,
    signal: (sig) => void child.kill(sig),
    exited: () => exit,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
