/**
 * Turns the measured rows into the verdicts and the printed table: each reference ratio pairs
 * the scenario's CPU per request (the `own` subject, or the `total` of every server process) in
 * round r with its reference's in the same round r of this run, and is the median of those
 * per-round ratios; a target is met when the ratio is at or under it. Scenario 7's target is its
 * peak RSS.
 */
import { RSS_TARGET_MB } from './scenarios.js';
import { pairedRatio } from './stats.js';

const fmt = (n, digits = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

/**
 * Adds `comparisons` ({ ref, basis, ratio, perRound, target, verdict }) to each measured row:
 * `perRound` the ratio of each round, `ratio` their median.
 */
export function compare(rows) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const row of rows) {
    row.comparisons = [];
    if (row.result === undefined) continue;
    for (const ref of row.refs) {
      const other = byId.get(ref.id)?.result;
      const field = ref.basis === 'own' ? 'ownCpuUsPerReq' : 'totalCpuUsPerReq';
      const paired = other === undefined ? undefined : pairedRatio(row.result.rounds.map((r) => r[field]), other.rounds.map((r) => r[field]));
      const ratio = paired?.ratio;
      let verdict = 'info';
      if (ref.target !== undefined) verdict = ratio === undefined ? 'n/a' : ratio <= ref.target ? 'met' : 'missed';
      if (row.result.unexpected > 0) verdict = 'invalid';
      row.comparisons.push({ ref: ref.id, basis: ref.basis, ratio, perRound: paired?.perRound, target: ref.target, verdict });
    }
    const rssTarget = RSS_TARGET_MB[/** @type {7} */ (row.id)];
    if (rssTarget !== undefined) {
      row.comparisons.push({ ref: 'RSS', basis: 'peak RSS MB', ratio: undefined, target: rssTarget, verdict: row.result.peakRssMb < rssTarget ? 'met' : 'missed' });
    }
  }
  return rows;
}

const HEAD = ['scenario', 'RPS', 'p50 ms', 'p99 ms', 'own CPU µs/req', 'total CPU µs/req', 'peak RSS MB', 'core %', 'reference', 'ratio', 'target', 'verdict'];

function cells(row) {
  const name = `${row.id} ${row.label}`;
  if (row.result === undefined) return [`${name} | unavailable: ${row.unavailable ?? 'not run'}`];
  const r = row.result;
  // Share of one core the servers got: far under 100 while the load generator saturates them
  // means the server core was shared with something else (a noisy row).
  const core = fmt(r.perProcess.reduce((s, p) => s + p.cpuBusy, 0) * 100, 0);
  const measured = [name, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.ownCpuUsPerReq), fmt(r.totalCpuUsPerReq), fmt(r.peakRssMb), core];
  const blank = ['', '', '', '', '', '', '', ''];
  if (row.comparisons.length === 0) return [[...measured, '-', '-', '-', r.unexpected > 0 ? `invalid: ${r.unexpected} unexpected` : '']];
  return row.comparisons.map((c, i) => {
    const ref = c.ref === 'RSS' ? 'peak RSS' : `${c.ref} (${c.basis})`;
    const ratio = c.ref === 'RSS' ? fmt(r.peakRssMb) : c.ratio === undefined ? '-' : `${fmt(c.ratio, 2)}x`;
    const target = c.target === undefined ? '-' : c.ref === 'RSS' ? `< ${c.target} MB` : `<= ${c.target}x`;
    const verdict = c.verdict === 'invalid' ? `invalid: ${r.unexpected} unexpected` : c.verdict;
    return [...(i === 0 ? measured : blank), ref, ratio, target, verdict];
  });
}

/** The one table, as text. */
export function table(rows) {
  const lines = rows.flatMap(cells);
  const grid = [HEAD, ...lines.filter((l) => Array.isArray(l))];
  const widths = HEAD.map((_, i) => Math.max(...grid.map((l) => String(l[i] ?? '').length)));
  const text = (l) =>
    typeof l === 'string' ? l : l.map((c, i) => (i === 0 ? String(c).padEnd(widths[i] ?? 0) : String(c).padStart(widths[i] ?? 0))).join(' | ').trimEnd();
  return [text(HEAD), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(text)].join('\n');
}

/**
 * One line per target: met / missed with the ratio, or why it has no verdict (a scenario or its
 * reference unavailable). Rows without a result list their targets too, so none goes unseen.
 */
export function targets(rows) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const lines = [];
  for (const row of rows) {
    const rss = RSS_TARGET_MB[/** @type {7} */ (row.id)];
    const wanted = [...row.refs.filter((ref) => ref.target !== undefined), ...(rss === undefined ? [] : [{ id: 'RSS', basis: '', target: rss }])];
    for (const ref of wanted) {
      const name = ref.id === 'RSS' ? `${row.id} ${row.label}: peak RSS < ${ref.target} MB` : `${row.id} ${row.label}: <= ${ref.target}x ${ref.id} ${byId.get(ref.id)?.label ?? ''} (${ref.basis} CPU/req)`;
      const c = row.comparisons?.find((x) => x.ref === ref.id);
      let status;
      if (row.result === undefined) status = `no verdict: ${row.unavailable ?? 'not run'}`;
      else if (c === undefined || (c.ratio === undefined && ref.id !== 'RSS')) status = `no verdict: ${ref.id} ${byId.get(ref.id)?.unavailable ?? 'not run'}`;
      else status = ref.id === 'RSS' ? `${c.verdict} (${fmt(row.result.peakRssMb)} MB)` : `${c.verdict} (${fmt(c.ratio, 2)}x)`;
      lines.push(`  ${status.padEnd(16)} ${name}`);
    }
  }
  return lines.length === 0 ? '  (none among the chosen scenarios)' : lines.join('\n');
}
