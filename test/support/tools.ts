/**
 * The real neighbours the interop suites run (Traefik, Helm, kubeconform), built once by
 * scripts/install-traefik.sh and scripts/install-helm.sh into the tool cache
 * `${PORTCULLIS_CACHE:-~/.cache/portcullis}` as `bin/<name>-<version>`. A suite that finds no
 * binary fails with the command that installs it: a neighbour is proven, never skipped.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const SCRIPTS = resolve(import.meta.dirname, '../../scripts');

export function toolCache(): string {
  return process.env.PORTCULLIS_CACHE ?? join(homedir(), '.cache', 'portcullis');
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Compares `v3.6.12`-style versions numerically, part by part. */
function byVersion(a: string, b: string): number {
  const parts = (v: string): number[] => v.replace(/^v/, '').split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The binary of `name`: `$<NAME>` when set, else the newest `<name>-<version>` in the cache's
 * bin folder; undefined when there is none.
 */
export function findTool(name: string): string | undefined {
  const fromEnv = process.env[name.toUpperCase()];
  if (fromEnv !== undefined && fromEnv !== '') return executable(fromEnv) ? fromEnv : undefined;
  const bin = join(toolCache(), 'bin');
  let entries: string[];
  try {
    entries = readdirSync(bin);
  } catch {
    return undefined;
  }
  const versions = entries
    .filter((e) => e.startsWith(`${name}-`) && executable(join(bin, e)))
    .map((e) => e.slice(name.length + 1))
    .sort(byVersion);
  const newest = versions.at(-1);
  return newest === undefined ? undefined : join(bin, `${name}-${newest}`);
}

/** The message a suite fails with when `name` is missing. */
export function missingTool(name: string, script: string): string {
  return `${name} is required for this test and was not found ($${name.toUpperCase()} or ${join(toolCache(), 'bin', `${name}-<version>`)}); build it: bash ${join(SCRIPTS, script)}`;
}
