/**
 * The layer map of docs/architecture.md, enforced: a file imports only from its own layer or a
 * lower one (so pipeline/, verify/, authz/ and identity/ never reach up into the HTTP
 * terminals, the runtime or the CLI), and no source file grows past 300 lines.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');
const MAX_LINES = 300;

/** Lowest first; a folder (or a file at the top of src/) may import from its rank and below. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'version.ts', 'util'],
  ['config'],
  ['identity', 'verify', 'authz'],
  ['authn', 'http'],
  ['pipeline'],
  ['proxy', 'observe', 'admin'],
  ['state'],
  ['login'],
  ['terminals'],
  ['runtime'],
  ['cli', 'dev', 'index.ts'],
];

function rank(file: string): number {
  const top = relative(SRC, file).split('/')[0] ?? '';
  const found = LAYERS.findIndex((layer) => layer.includes(top));
  if (found < 0) throw new Error(`${top} is in no layer: add it to LAYERS and to docs/architecture.md`);
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const files = sources(SRC);
const IMPORT = /^(?:import|export)\b[^'"]*from\s+'(\.{1,2}\/[^']+)'/gm;

t.test('no file imports from a higher layer', async (t) => {
  const violations: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts'));
      if (rank(target) > rank(file)) violations.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
    }
  }
  t.same(violations, [], 'imports go down (or sideways within a layer) only');
  t.ok(files.length > 50, 'the scan saw the source tree');
});

t.test(`no source file is longer than ${MAX_LINES} lines`, async (t) => {
  const long = files
    .map((file) => ({ file: relative(SRC, file), lines: readFileSync(file, 'utf8').split('\n').length }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.file}: ${f.lines}`);
  t.same(long, []);
});
