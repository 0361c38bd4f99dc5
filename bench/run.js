/**
 * `npm run bench` (issues 7 and 15): builds the scenarios' world on 127.0.0.1 (a JWKS server, a
 * minimal upstream, the minimal Node references, the built sidecar, nginx, Apache
 * mod_auth_openidc, oauth2-proxy, Oathkeeper), starts every chosen scenario's servers, then
 * drives the scenarios in interleaved rounds (round r of every scenario before round r + 1 of
 * any) with the load generator on one core and the servers on the other, and prints one table of
 * RPS, latency, server CPU per request (from /proc), peak RSS and the ratio to each reference
 * (the median over rounds of the subject's round r over the reference's round r), then every
 * target as met or missed. Every figure is saved to bench/results/<ISO timestamp>.json.
 *
 * Environment: BENCH_SECONDS (timed seconds per round, default 3), BENCH_ROUNDS (default 5),
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
import { prepare, summarise, timedRound } from './lib/measure.js';
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
const seconds = quick ? 1 : Number(env.BENCH_SECONDS ?? 3);
const rounds = quick ? 3 : Number(env.BENCH_ROUNDS ?? 5);
const warmupSeconds = quick ? 1 : 2;
const connections = Number(env.BENCH_CONNECTIONS ?? 32);
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const profileIds = new Set((env.BENCH_PROFILE ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
const nodeArgs = (env.BENCH_NODE_ARGS ?? '--max-semi-space-size=8 --max-old-space-size=160').split(' ').filter((s) => s !== '');
const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const errorText = (err) => `error: ${/** @type {Error} */ (err).message.split('\n').slice(0, 3).join(' ')}`;

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
  log(`${plan.note}; ${load.note}; ${warmupSeconds} s warm-up per scenario, then ${rounds} interleaved rounds of ${seconds} s, ${connections} connections`);

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
  const stops = [];
  const drive = { tool: load.tool, cpus: plan.load, seconds, warmupSeconds, connections, dir };
  try {
    // Every chosen scenario's servers start first and stay up to the end: an idle server costs
    // no CPU, and CPU is read per process tree, so one never counts in another's figures.
    let live = [];
    for (const scenario of chosen) {
      // A profiled sidecar pays for the sampling: its row says so.
      const row = { id: scenario.id, label: profileIds.has(scenario.id) ? `${scenario.label} [profiled]` : scenario.label, refs: scenario.refs };
      rows.push(row);
      log(`starting scenario ${scenario.id}: ${scenario.label}`);
      try {
        const started = await scenario.start(ctx);
        if (started.unavailable !== undefined) {
          row.unavailable = started.unavailable;
          continue;
        }
        stops.push(started.stop);
        live.push({ row, measurement: await prepare(started.target, drive) });
      } catch (err) {
        row.unavailable = errorText(err);
      }
    }
    // Round r of every scenario before round r + 1 of any: a scenario and its reference are
    // measured within a minute or two of each other, under the same drift of the machine.
    for (let r = 1; r <= rounds; r += 1) {
      log(`round ${r} of ${rounds}: ${live.map((e) => e.row.id).join(' ')}`);
      for (const entry of live) {
        try {
          await timedRound(entry.measurement);
          if (r === rounds) entry.row.result = await summarise(entry.measurement);
        } catch (err) {
          entry.row.unavailable = errorText(err);
        }
      }
      live = live.filter((e) => e.row.unavailable === undefined);
    }
  } finally {
    await Promise.allSettled(stops.map((stop) => stop()));
    await upstream.stop();
    await jwks.close();
  }

  // A profile is written when its sidecar exits, so only now.
  const profiles = [];
  for (const row of rows) {
    const dirOf = join(profileDir, row.id);
    if (!profileIds.has(row.id) || !existsSync(dirOf)) continue;
    const file = readdirSync(dirOf).find((f) => f.endsWith('.cpuprofile'));
    if (file !== undefined) profiles.push({ scenario: row.id, file: join(dirOf, file), summary: summariseProfile(join(dirOf, file), row.result?.timedWindowsUs) });
  }

  compare(rows);
  const text = table(rows);
  const load1 = { start: loadBefore, end: loadavg()[0] };
  const machine = `${cpuList()[0]?.model ?? 'unknown CPU'}, ${plan.cores} cores, Node ${process.version}`;
  process.stdout.write(
    `\n${startedAt.toISOString()} on ${machine}; ${rounds} interleaved rounds of ${seconds} s; figures are medians of the rounds, ratios medians of the per-round paired ratios (round r over the reference's round r)\n${text}\n1-minute load average: ${load1.start.toFixed(1)} at start, ${load1.end.toFixed(1)} at end (${plan.cores} cores)\n\nTargets:\n${targets(rows)}\n`,
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
  log(`saved ${out}; the run took ${((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)} min`);
}

await main();
