/** Version facts for `--version` and the admin `/version` endpoint. */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const VERSION: string = pkg.version;

export function versionInfo(): { version: string; node: string; commit?: string } {
  const commit = process.env.PORTCULLIS_COMMIT;
  return commit ? { version: VERSION, node: process.version, commit } : { version: VERSION, node: process.version };
}
