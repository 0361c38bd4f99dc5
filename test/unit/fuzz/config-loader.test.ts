/**
 * Property test of the config loader (docs/configuration.md): any text — random bytes, YAML-ish lines built
 * from config keys, broken indentation, anchors, tags, flow collections — never throws; the
 * result is either a config or a list of problems, each placed at line ≥ 1 and column ≥ 1.
 */
import t from 'tap';
import fc from 'fast-check';
import { loadConfigText } from '../../../src/config/index.js';

const SEED = 20_240_601;
const KEYS = ['listen', 'admin', 'issuers', 'routes', 'name', 'issuer', 'match', 'path', 'host', 'upstream', 'auth', 'require', 'roles', 'jwks', 'timeout', 'login', 'cookie_secret', 'tokens', 'cookie', 'algorithms', 'audiences', 'mode', 'metrics', '<<', 'rolez'];
const VALUES = ['', '~', 'null', 'true', '0', '-1', '1e400', '.nan', '30s', '10x', '"unterminated', "'x'", '[a, b', '{a: 1}', '[RS256, none]', '*anchor', '&anchor v', '!!binary aGk=', '!tag x', '${UNSET}', '${X:-d}', 'http://[::1', '127.0.0.1:0', '/', '- a', '|', '>-', '"\\u0000"', '@', '`', '%YAML 1.1'];

const line = fc.tuple(fc.integer({ min: 0, max: 8 }), fc.constantFrom('', '- '), fc.constantFrom(...KEYS), fc.constantFrom(': ', ':', ' : ', ''), fc.constantFrom(...VALUES)).map(
  ([indent, dash, key, colon, value]) => `${' '.repeat(indent)}${dash}${key}${colon}${value}`,
);
const yamlish = fc.array(line, { maxLength: 25 }).map((lines) => lines.join('\n'));
const texts = fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 200 }), yamlish.map((y) => `${y}\n---\n${y}`));

t.test('random YAML-ish text never throws; problems always have a position', async (t) => {
  fc.assert(
    fc.property(texts, (text) => {
      const result = loadConfigText(text, 'fuzz.yaml', {});
      if (result.ok) return true;
      return result.problems.length > 0 && result.problems.every((p) => Number.isInteger(p.line) && Number.isInteger(p.col) && p.line >= 1 && p.col >= 1 && p.file === 'fuzz.yaml');
    }),
    { seed: SEED, numRuns: 1_500 },
  );
  t.pass('1,500 cases');
});

// Found by the property above: YAML features that must come back as one placed problem, not an
// exception (an unresolved alias) or a flood of nonsense (a !!binary value read as a Buffer).
const cases: Array<[string, string]> = [
  ['an alias without its anchor', 'listen: *nowhere\n'],
  ['an alias as the whole document', '*a'],
  ['a !!binary document', '!!binary aGk='],
  ['a !!binary value', 'listen: !!binary aGk=\n'],
];
for (const [name, text] of cases) {
  t.test(`${name}: one problem with a position, no exception`, async (t) => {
    let result: ReturnType<typeof loadConfigText> | undefined;
    t.doesNotThrow(() => (result = loadConfigText(text, 'fuzz.yaml', {})));
    t.equal(result?.ok, false);
    if (result && !result.ok) {
      t.ok(result.problems.length >= 1 && result.problems.length <= 3, `${result.problems.length} problem(s)`);
      t.ok(result.problems.every((p) => p.line >= 1 && p.col >= 1));
    }
  });
}
