/**
 * `npm run bench` (issues 7 and 15): builds the scenarios' world on 127.0.0.1 (a JWKS server, a
 * minimal upstream, the minimal Node references, the built sidecar, nginx, Apache
 * mod_auth_openidc, oauth2-proxy, Oathkeeper), drives each scenario with the load generator on
 * one core and the servers on the other, and prints one table of RPS, latency, server CPU per
 * request (from /proc), peak RSS and the ratio to each reference measured in the same run (the
 * median of its rounds), then every target as met or missed. Every figure is saved to
 * bench/results/<ISO timestamp>.json.
 *
 * Environment: BENCH_SECONDS (timed seconds per round, default 4), BENCH_ROUNDS (default 3),
 * BENCH_QUICK=1 (1 s rounds, smoke run), BENCH_CONNECTIONS (default 32), BENCH_ONLY
 * (comma-separated scenario ids), BENCH_PROFILE (comma-separated scenario ids whose
 * sidecar runs under `node --cpu-prof`).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus as cpuList, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apacheUnavailable } from './lib/apache.js';
import { chooseLoadGenerator } from './lib/load.js';
import { measure } from './lib/measure.js';
import { findNginx } from './lib/nginx.js';
import { CLK_TCK, pinningPlan } from './lib/proc.js';
import { formatProfile, summariseProfile } from './lib/profile.js';
import { compare, table, targets } from './lib/report.js';
import { SCENARIOS } from './lib/scenarios.js';
import { CLI, startStatic } from './lib/servers.js';
import { createKey, mintTokenSets, startJwks, writeTokenFile } from './lib/tokens.js';

const RESULTS = resolve(import.meta.dirname, 'results');
const TOKEN_COUNTS = { valid: 50_000, expired: 1_000, forged: 10_000, unknownKid: 10_000 };

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const seconds = quick ? 1 : Number(env.BENCH_SECONDS ?? 4);
const rounds = quick ? 3 : Number(env.BENCH_ROUNDS ?? 3);
const warmupSeconds = quick ? 1 : 2;
const connections = Number(env.BENCH_CONNECTIONS ?? 32);
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const profileIds = new Set((env.BENCH_PROFILE ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
const nodeArgs = (env.BENCH_NODE_ARGS ?? '--max-semi-space-size=8').split(' ').filter((s) => s !== '');
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

/** Apache with the module, installed with apt-get once if missing (as CI installs nginx). */
function ensureApache() {
  if (apacheUnavailable() === undefined) return undefined;
  log('installing apache2 and libapache2-mod-auth-openidc with apt-get');
  const apt = spawnSync('apt-get', ['install', '-y', 'apache2', 'libapache2-mod-auth-openidc'], { stdio: 'ignore' });
  const reason = apacheUnavailable();
  return reason === undefined ? undefined : apt.error || apt.status !== 0 ? `apt-get install failed; ${reason}` : reason;
}

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build (npm run bench does)`);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('BENCH_SECONDS must be a positive number');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('BENCH_ROUNDS must be a positive integer');
  const startedAt = new Date();
  const loadBefore = loadavg()[0];
  const plan = pinningPlan();
  const load = chooseLoadGenerator();
  const apache = ensureApache();
  log(`${plan.note}; ${load.note}; ${rounds} rounds of ${seconds} s per scenario after ${warmupSeconds} s warm-up, ${connections} connections`);

  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const key = createKey();
  const jwks = await startJwks(key);
  // Only the rotating sets of the chosen scenarios are minted (signing 50,000 tokens takes a
  // while); every scenario has at least the one valid token.
  const chosen = SCENARIOS.filter((s) => only === undefined || only.has(s.id));
  const counts = Object.fromEntries(Object.entries(TOKEN_COUNTS).map(([set, n]) => [set, chosen.some((s) => s.tokenSet === set) ? n : set === 'valid' ? 1 : 0]));
  log(`minting tokens (RS256, on every core): ${Object.entries(counts).map(([set, n]) => `${n} ${set}`).join(', ')}`);
  const tokens = await mintTokenSets(key, jwks.url, Math.floor(Date.now() / 1000), counts);
  const files = Object.fromEntries(Object.entries(tokens).map(([name, list]) => [name, writeTokenFile(join(dir, `${name}.tokens`), list)]));
  const upstream = await startStatic(plan.servers, 'upstream');
  const profileDir = join(dir, 'profile');
  const ctx = {
    cpus: plan.servers,
    dir,
    key,
    jwks,
    tokens,
    upstream,
    connections,
    nginxBinary: findNginx(),
    apacheUnavailable: apache,
    peers: {},
    tokenSet: (name) => (name === 'one' ? { first: tokens.valid[0], file: undefined } : { first: tokens[name][0], file: files[name] }),
    // The sidecar runs with the V8 flag the container image sets (deploy/Dockerfile NODE_OPTIONS)
    // unless BENCH_NODE_ARGS names others (what-if runs of GC settings).
    nodeArgsFor: (id) => [...nodeArgs, ...(profileIds.has(id) ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, id)] : [])],
  };

  const rows = [];
  const profiles = [];
  try {
    for (const scenario of chosen) {
      // A profiled sidecar pays for the sampling: its row says so.
      const row = { id: scenario.id, label: profileIds.has(scenario.id) ? `${scenario.label} [profiled]` : scenario.label, refs: scenario.refs };
      rows.push(row);
      log(`scenario ${scenario.id}: ${scenario.label}`);
      let started;
      try {
        started = await scenario.start(ctx);
        if (started.unavailable !== undefined) {
          row.unavailable = started.unavailable;
          continue;
        }
        row.result = await measure(started.target, { tool: load.tool, cpus: plan.load, seconds, rounds, warmupSeconds, connections, dir });
      } catch (err) {
        row.unavailable = `error: ${/** @type {Error} */ (err).message.split('\n').slice(0, 3).join(' ')}`;
      } finally {
        await started?.stop?.();
      }
      const dirOf = join(profileDir, scenario.id);
      if (profileIds.has(scenario.id) && existsSync(dirOf)) {
        const file = readdirSync(dirOf).find((f) => f.endsWith('.cpuprofile'));
        if (file !== undefined) profiles.push({ scenario: scenario.id, file: join(dirOf, file), summary: summariseProfile(join(dirOf, file), row.result?.timedWindowUs) });
      }
    }
  } finally {
    await upstream.stop();
    await jwks.close();
  }

  compare(rows);
  const text = table(rows);
  const load1 = { start: loadBefore, end: loadavg()[0] };
  const machine = `${cpuList()[0]?.model ?? 'unknown CPU'}, ${plan.cores} cores, Node ${process.version}`;
  process.stdout.write(
    `\n${startedAt.toISOString()} on ${machine}; ${rounds} rounds of ${seconds} s, figures are medians of the rounds\n${text}\n1-minute load average: ${load1.start.toFixed(1)} at start, ${load1.end.toFixed(1)} at end (${plan.cores} cores)\n\nTargets:\n${targets(rows)}\n`,
  );
  for (const profile of profiles) process.stdout.write(`\nCPU profile of the sidecar under scenario ${profile.scenario} (timed rounds only):\n${formatProfile(profile.summary)}\n`);

  mkdirSync(RESULTS, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(':', '-');
  const out = join(RESULTS, `${stamp}.json`);
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        node: process.version,
        machine: { cores: plan.cores, cpu: cpuList()[0]?.model ?? 'unknown', clkTck: CLK_TCK, pinning: plan.note, loadAverage1m: load1 },
        loadGenerator: load.note,
        seconds,
        rounds,
        warmupSeconds,
        connections,
        tokenCounts: counts,
        rows,
        profiles: profiles.map((p) => ({ scenario: p.scenario, ...p.summary })),
        table: text,
      },
      null,
      2,
    )}\n`,
  );
  for (const p of profiles) copyFileSync(p.file, join(RESULTS, `${stamp}-${p.scenario}.cpuprofile.json`));
  rmSync(dir, { recursive: true, force: true });
  log(`saved ${out}`);
}

await main();
