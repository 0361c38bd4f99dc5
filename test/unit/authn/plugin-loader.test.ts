/** Plug-in loading: every way a module can be wrong is a start-up error naming the entry. */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugin, PluginLoadError } from '../../../src/authn/plugin-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-plugins-'));
function plugin(name: string, source: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  return file;
}
const log = (): void => undefined;

const bad: Array<[string, string | undefined, RegExp]> = [
  ['missing file', undefined, /cannot be loaded/],
  ['syntax error', 'export default (', /cannot be loaded/],
  ['no factory export', 'export const x = 1;', /exports no factory/],
  ['factory throws', 'export default () => { throw new Error("bad options"); }', /factory failed: bad options/],
  ['returns no authenticate', 'export default () => ({ name: "x" })', /must return/],
  ['returns a string', 'export default () => "nope"', /must return/],
];
for (const [name, source, message] of bad) {
  t.test(`refused: ${name}`, async (t) => {
    const path = source === undefined ? join(dir, 'does-not-exist.mjs') : plugin(name.replaceAll(' ', '-'), source);
    await t.rejects(loadPlugin(2, path, {}, join(dir, 'portcullis.yaml'), log), message);
    await loadPlugin(2, path, {}, join(dir, 'portcullis.yaml'), log).catch((err: unknown) => {
      t.ok(err instanceof PluginLoadError);
      t.match((err as Error).message, /^authenticators\[2\] \(/);
    });
  });
}

t.test('accepted: default export and createAuthenticator export, with options and context', async (t) => {
  const a = plugin('a', 'export default (options, context) => ({ name: "a:" + options.tag + ":" + context.configDir, authenticate: async () => null })');
  const b = plugin('b', 'export function createAuthenticator() { return { name: "b", authenticate: async () => null }; }');
  const authA = await loadPlugin(0, a, { tag: 't1' }, join(dir, 'portcullis.yaml'), log);
  t.equal(authA.name, `a:t1:${dir}`);
  const authB = await loadPlugin(1, b, {}, join(dir, 'portcullis.yaml'), log);
  t.equal(authB.name, 'b');
  t.equal(await authB.authenticate({ method: 'GET', host: 'h', path: '/', query: '', headers: {}, clientIp: '127.0.0.1', requestId: 'r' }), null);
});
