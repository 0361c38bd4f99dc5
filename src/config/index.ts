/**
 * The configuration module's public entry (docs/configuration.md): load a config file or text into a frozen
 * RuntimeConfig or a list of problems, format a problem as `FILE:LINE:COL path: message`, and
 * parse durations the way the config does.
 */
import { readFile } from 'node:fs/promises';
import { loadConfigText } from './load.js';
import type { LoadOptions } from './load.js';
import type { LoadResult, Problem } from './types.js';

export { loadConfigText } from './load.js';
export type { LoadOptions } from './load.js';
export { parseDuration } from './duration.js';
export type * from './types.js';

/** Reads and loads `file`; an unreadable file is one problem at 1:1. */
export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const message = `cannot read the config file (${code}); check the path and its permissions`;
    return { ok: false, problems: [{ file, line: 1, col: 1, path: '', message }] };
  }
  return loadConfigText(text, file, env, opts);
}

/** `FILE:LINE:COL path: message`, or `FILE:LINE:COL message` for a problem of the whole file. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col} ${p.path === '' ? '' : `${p.path}: `}${p.message}`;
}
