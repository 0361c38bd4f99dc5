/**
 * Loading one config text: YAML parse (syntax errors stop here), environment substitution,
 * the schema pass, the cross-field checks, then compilation. Every problem found is returned
 * at once, placed at its line and column and sorted in file order. A problem on a value whose
 * environment variable is unset hides the knock-on problems of that same value. With
 * `placeholders` (`check --no-env`) the environment is not read: unset variables take
 * placeholders (env.ts) and are reported only where the placeholder does not fit.
 */
import { resolve } from 'node:path';
import { isAlias, LineCounter, parseDocument, visit } from 'yaml';
import { checkDocument, checkWarnings } from './checks.js';
import { compile } from './compile.js';
import { substituteEnv } from './env.js';
import { byPosition, isWithin, toProblem } from './locate.js';
import type { Finding } from './locate.js';
import type { LoadResult, Problem } from './types.js';
import { validateSchema } from './validate.js';

export interface LoadOptions {
  /** Unset `${NAME}` values take placeholders instead of being problems (`check --no-env`). */
  readonly placeholders?: boolean;
}

export function loadConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): LoadResult {
  const lines = new LineCounter();
  // The core schema: plain data only (no `!!binary`, no custom types).
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, schema: 'core', resolveKnownTags: false });
  const syntax = doc.errors.map((e): Problem => {
    const { line, col } = lines.linePos(e.pos[0]);
    return { file, line, col, path: '', message: `YAML syntax error: ${e.message}; fix the syntax here` };
  });
  visit(doc, {
    Alias(_, node) {
      if (isAlias(node) && node.resolve(doc) === undefined) {
        const { line, col } = lines.linePos(node.range?.[0] ?? 0);
        syntax.push({ file, line, col, path: '', message: `YAML alias *${node.source} has no anchor; define &${node.source} before it or write the value` });
      }
    },
  });
  if (syntax.length > 0) return { ok: false, problems: syntax.sort(byPosition) };
  const placeholders = opts.placeholders === true;
  const unset = substituteEnv(doc, env, placeholders);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, problems: [{ file, line: 1, col: 1, path: '', message: `the document cannot be read as data (${message}); remove aliases or custom tags` }] };
  }
  const schema = validateSchema(data ?? {});
  const findings: Finding[] = schema.ok ? checkDocument(schema.doc) : schema.findings;
  const knockOn = (f: Finding) => unset.some((u) => isWithin(f.path, u.path));
  const unfit = (u: Finding) => findings.some((f) => isWithin(f.path, u.path));
  const all = [...(placeholders ? unset.filter(unfit) : unset), ...findings.filter((f) => !knockOn(f))];
  if (!schema.ok || all.length > 0) {
    return { ok: false, problems: all.map((f) => toProblem(doc, lines, file, f)).sort(byPosition) };
  }
  const warnings = checkWarnings(schema.doc).map((f) => toProblem(doc, lines, file, f)).sort(byPosition);
  return { ok: true, config: compile(schema.doc, resolve(file)), warnings };
}
