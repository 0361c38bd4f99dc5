/**
 * Loading one config text: YAML parse (syntax errors stop here), environment substitution,
 * the schema pass, the cross-field checks, then compilation. Every problem found is returned
 * at once, placed at its line and column and sorted in file order. A problem on a value whose
 * environment variable is unset hides the knock-on problems of that same value.
 */
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { checkDocument } from './checks.js';
import { compile } from './compile.js';
import { substituteEnv } from './env.js';
import { byPosition, isWithin, toProblem } from './locate.js';
import type { Finding } from './locate.js';
import type { LoadResult, Problem } from './types.js';
import { validateSchema } from './validate.js';

export function loadConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e): Problem => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { file, line, col, path: '', message: `YAML syntax error: ${e.message}; fix the syntax here` };
    });
    return { ok: false, problems: problems.sort(byPosition) };
  }
  const unset = substituteEnv(doc, env);
  const schema = validateSchema(doc.toJS() ?? {});
  const findings: Finding[] = schema.ok ? checkDocument(schema.doc) : schema.findings;
  const knockOn = (f: Finding) => unset.some((u) => isWithin(f.path, u.path));
  const all = [...unset, ...findings.filter((f) => !knockOn(f))];
  if (!schema.ok || all.length > 0) {
    return { ok: false, problems: all.map((f) => toProblem(doc, lines, file, f)).sort(byPosition) };
  }
  return { ok: true, config: compile(schema.doc, resolve(file)) };
}
