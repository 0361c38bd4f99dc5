/**
 * `portcullis check -c FILE [--online] [--no-env] [--json]`: prints every problem as
 * `FILE:LINE:COL path: message` on stdout; exit 0 when valid, 1 when not. Warnings
 * (`FILE:LINE:COL path: warning: ...`) are printed too and keep exit 0. `--online` also loads
 * each issuer's discovery document and JWKS and reports failures at the issuer's line.
 * `--no-env` reads no environment: unset `${NAME}` values take placeholders of the right shape
 * (config/env.ts), so CI can check a file without its secrets. `--json` prints
 * `{ ok, problems: [{ file, line, col, path, message, severity }] }` instead of lines.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { formatProblem, loadConfigFile } from '../config/index.js';
import type { Problem, RuntimeConfig } from '../config/types.js';

export interface CheckOptions {
  readonly online: boolean;
  /** Check without the environment: placeholders for unset variables. */
  readonly noEnv?: boolean;
  readonly json?: boolean;
}

type Severity = 'error' | 'warning';
type Reported = Problem & { readonly severity: Severity };

export async function runCheck(file: string, opts: CheckOptions, out = process.stdout): Promise<number> {
  const result = opts.noEnv === true ? await loadConfigFile(file, {}, { placeholders: true }) : await loadConfigFile(file);
  const reported: Reported[] = result.ok
    ? [...(result.warnings ?? []).map((p) => ({ ...p, severity: 'warning' as const })), ...(opts.online ? await onlineProblems(file, result.config) : [])]
    : result.problems.map((p) => ({ ...p, severity: 'error' as const }));
  const ok = reported.every((p) => p.severity !== 'error');
  if (opts.json === true) {
    out.write(`${JSON.stringify({ ok, problems: reported })}\n`);
  } else {
    for (const p of reported) out.write(`${formatProblem(p.severity === 'warning' ? { ...p, message: `warning: ${p.message}` } : p)}\n`);
    if (ok && result.ok) {
      const online = opts.online ? ', keys loaded' : '';
      out.write(`${file}: ok (${result.config.issuers.length} issuer(s), ${result.config.routes.length} route(s)${online})\n`);
    }
  }
  return ok ? 0 : 1;
}

/** Every issuer whose discovery document or JWKS does not load, at the issuer's line. */
async function onlineProblems(file: string, config: RuntimeConfig): Promise<Reported[]> {
  const { checkIssuerOnline } = await import('../verify/index.js');
  const problems: Reported[] = [];
  const where = await issuerPositions(file);
  await Promise.all(
    config.issuers.map(async (issuer, i) => {
      const pos = where[i] ?? { line: 1, col: 1 };
      for (const message of await checkIssuerOnline(issuer)) {
        problems.push({ file, ...pos, path: `issuers[${i}]`, message, severity: 'error' });
      }
    }),
  );
  return problems.sort((a, b) => a.line - b.line || a.path.localeCompare(b.path));
}

/** Line and column of each `issuers[i]` entry, for problems found online. */
async function issuerPositions(file: string): Promise<Array<{ line: number; col: number }>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(await readFile(file, 'utf8'), { lineCounter });
  const positions: Array<{ line: number; col: number }> = [];
  const issuers = doc.get('issuers', true) as { items?: Array<{ range?: [number, number, number] }> } | undefined;
  for (const item of issuers?.items ?? []) {
    positions.push(lineCounter.linePos(item.range?.[0] ?? 0));
  }
  return positions;
}
