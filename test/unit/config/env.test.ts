// Environment substitution on the YAML document: values, defaults, typed re-reading of plain
// whole-expression scalars, and one finding per unset variable at the scalar's path.
import t from 'tap';
import { parseDocument } from 'yaml';
import { substituteEnv } from '../../../src/config/env.js';

function run(yaml: string, env: NodeJS.ProcessEnv) {
  const doc = parseDocument(yaml);
  const findings = substituteEnv(doc, env);
  return { value: (doc.toJS() as { v: unknown }).v, findings };
}

const cases: [string, string, NodeJS.ProcessEnv, unknown][] = [
  ['a set variable replaces the expression', 'v: ${A}', { A: 'x' }, 'x'],
  ['the default is used when the variable is unset', 'v: ${A:-fallback}', {}, 'fallback'],
  ['a set variable wins over the default', 'v: ${A:-fallback}', { A: 'set' }, 'set'],
  ['an empty default is allowed', 'v: "${A:-}"', {}, ''],
  ['several expressions in one string', 'v: ${H:-0.0.0.0}:${P}', { P: '81' }, '0.0.0.0:81'],
  ['a plain whole expression reads as a number', 'v: ${P:-8080}', {}, 8080],
  ['a plain whole expression reads as a boolean', 'v: ${S:-true}', {}, true],
  ['a plain whole expression reads as null', 'v: ${S}', { S: '~' }, null],
  ['a quoted expression stays a string', 'v: "${P:-8080}"', {}, '8080'],
  ['a single-quoted expression stays a string', "v: '${S:-true}'", {}, 'true'],
  ['a mixed plain string stays a string', 'v: ${P:-80}80', {}, '8080'],
  ['a value that would read as a mapping stays a string', 'v: ${S}', { S: 'a: b' }, 'a: b'],
  ['a value with a YAML comment stays a string', 'v: ${S}', { S: 'x #y' }, 'x #y'],
  ['a value with surrounding spaces stays a string', 'v: ${S}', { S: ' 5 ' }, ' 5 '],
  ['a quoted value keeps its quotes', 'v: ${S}', { S: '"q"' }, '"q"'],
  ['text without expressions is untouched', 'v: $HOME and $', { HOME: '/root' }, '$HOME and $'],
  ['a lower-case name is a name too', 'v: ${lower}', { lower: 'ok' }, 'ok'],
  ['expressions inside lists are replaced', 'v:\n  - ${A}\n  - b', { A: 'a' }, ['a', 'b']],
  ['expressions inside quoted flow items are replaced', 'v: ["${A}", b]', { A: 'a' }, ['a', 'b']],
];

for (const [description, yaml, env, expected] of cases) {
  t.same(run(yaml, env), { value: expected, findings: [] }, description);
}

t.test('keys are not substituted', async (t) => {
  t.same(run('v:\n  ${A}: 1', { A: 'x' }).value, { '${A}': 1 });
});

t.test('each unset variable without default is one finding at its scalar', async (t) => {
  const doc = parseDocument('a:\n  - b: ${ONE}${TWO:-2}${THREE}\nc: ${ONE}\n');
  t.same(substituteEnv(doc, {}), [
    { path: ['a', 0, 'b'], message: 'environment variable ONE is not set; set it or write ${ONE:-default}' },
    { path: ['a', 0, 'b'], message: 'environment variable THREE is not set; set it or write ${THREE:-default}' },
    { path: ['c'], message: 'environment variable ONE is not set; set it or write ${ONE:-default}' },
  ]);
});

t.test('an unset variable becomes empty text beside its finding', async (t) => {
  const { value, findings } = run('v: a${A}b', {});
  t.equal(value, 'ab');
  t.same(findings.map((f) => f.path), [['v']]);
});

t.test('the same unset variable twice in one scalar is reported once', async (t) => {
  t.equal(run('v: ${A}${A}', {}).findings.length, 1);
});
