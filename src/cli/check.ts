/**
 * `portcullis check -c FILE [--online]`: prints every problem as `FILE:LINE:COL path: message`
 * on stdout; exit 0 when valid, 1 when not. Warnings (`FILE:LINE:COL path: warning: ...`) are
 * printed too and keep exit 0. `--online` also loads each issuer's discovery
 * document and JWKS and reports failures at the issuer's line.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { formatProblem, loadConfigFile } from '../config/index.js';
import type { Problem } from '../config/types.js';

export async function runCheck(file: string, opts: { online: boolean }, out = process.stdout): Promise<number> {
  const result = await loadConfigFile(file);
  if (!result.ok) {
    for (const p of result.problems) out.write(`${formatProblem(p)}\n`);
    return 1;
  }
  const { config } = result;
  for (const p of result.warnings ?? []) out.write(`${formatProblem({ ...p, message: `warning: ${p.message}` })}\n`);
  if (opts.online) {
    const { checkIssuerOnline } = await import('../verify/index.js');
    const problems: Problem[] = [];
    const where = await issuerPositions(file);
    await Promise.all(
      config.issuers.map(async (issuer, i) => {
        const pos = where[i] ?? { line: 1, col: 1 };
        for (const message of await checkIssuerOnline(issuer)) {
          problems.push({ file, ...pos, path: `issuers[${i}]`, message });
        }
      }),
    );
    if (problems.length > 0) {
      problems.sort((a, b) => a.line - b.line || a.path.localeCompare(b.path));
      for (const p of problems) out.write(`${formatProblem(p)}\n`);
      return 1;
    }
  }
  const online = opts.online ? ', keys loaded' : '';
  out.write(`${file}: ok (${config.issuers.length} issuer(s), ${config.routes.length} route(s)${online})\n`);
  return 0;
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
