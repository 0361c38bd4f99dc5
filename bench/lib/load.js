/**
 * The load generator, run as a child process pinned to the load core: Debian `wrk` (one
 * thread, a fixed number of keep-alive connections, `--latency`), with a Lua script rotating
 * bearer tokens read from a file where a scenario needs distinct tokens; autocannon (via
 * bench/lib/autocannon-runner.js) when wrk cannot be had. Both answer the same summary:
 * requests, seconds, rps, p50/p99 in ms, non-2xx count and socket errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pinned } from './proc.js';

const RUNNER = resolve(import.meta.dirname, 'autocannon-runner.js');

const ROTATE_LUA = `-- Rotates "Authorization: Bearer <token>" over the lines of the file given after "--",
-- starting after line args[2] (so a timed run continues where its warm-up stopped).
local tokens = {}
local n = 0
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      n = n + 1
      tokens[n] = "Bearer " .. line
    end
  end
  i = tonumber(args[2] or "0") % n
end
function request()
  i = i % n + 1
  wrk.headers["Authorization"] = tokens[i]
  return wrk.format()
end
`;

/** `wrk` if present, else tries `apt-get install -y wrk`; resolves 'wrk' or 'autocannon' and why. */
export function chooseLoadGenerator() {
  const has = () => spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (has()) return { tool: 'wrk', note: 'wrk (Debian)' };
  const apt = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore' });
  if (apt.status === 0 && has()) return { tool: 'wrk', note: 'wrk (installed by the bench with apt-get)' };
  return { tool: 'autocannon', note: 'autocannon (wrk not installed and apt-get install wrk failed)' };
}

function run(command, args) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolveRun(out) : reject(new Error(`${command} exited ${String(code)}: ${err}${out}`))));
  });
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`unparseable wrk duration "${text}"`);
  return Number(m[1]) * UNIT_MS[/** @type {'us'|'ms'|'s'|'m'} */ (m[2])];
}

/** The figures of a `wrk --latency` report. */
export function parseWrk(text) {
  const pick = (re) => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output without ${String(re)}:\n${text}`);
    return m;
  };
  const total = pick(/(\d+) requests in ([\d.]+)(us|ms|s|m),/);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    seconds: durationMs(`${total[2]}${total[3]}`) / 1000,
    rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50Ms: durationMs(pick(/^\s+50%\s+(\S+)/m)[1]),
    p99Ms: durationMs(pick(/^\s+99%\s+(\S+)/m)[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((s, v) => s + Number(v), 0) : 0,
    socketErrorKinds: socket ? { connect: Number(socket[1]), read: Number(socket[2]), write: Number(socket[3]), timeout: Number(socket[4]) } : undefined,
  };
}

/**
 * Drives `url` for `seconds` with `connections`; `headers` are fixed, `tokenFile` (one token a
 * line) rotates `Authorization` from token number `offset`. `dir` holds the Lua script.
 */
export async function runLoad({ tool, cpus, url, seconds, connections, headers, tokenFile, offset = 0, dir }) {
  if (tool === 'autocannon') {
    const spec = JSON.stringify({ url, seconds, connections, headers, tokenFile, offset });
    const [cmd, args] = pinned(cpus, process.execPath, [RUNNER, spec]);
    return /** @type {ReturnType<typeof parseWrk>} */ (JSON.parse(await run(cmd, args)));
  }
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  if (tokenFile !== undefined) {
    const script = join(dir, 'rotate.lua');
    writeFileSync(script, ROTATE_LUA);
    args.push('-s', script, url, '--', tokenFile, String(offset));
  } else {
    args.push(url);
  }
  const [cmd, argv] = pinned(cpus, 'wrk', args);
  return parseWrk(await run(cmd, argv));
}
