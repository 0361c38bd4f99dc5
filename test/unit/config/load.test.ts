// The public entry: files and texts load to a config or to problems in file order,
// formatProblem prints `FILE:LINE:COL path: message`, and values substituted from the
// environment (secrets) never reach a problem.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { formatProblem, loadConfigFile, loadConfigText } from '../../../src/config/index.js';
import { SECRET_PLACEHOLDER } from '../../../src/config/env.js';

const ISSUER = 'issuers:\n  - name: idp\n    issuer: https://idp.example.com\n';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const result = loadConfigText(text, 'c.yaml', env);
  return result.ok ? [] : result.problems.map(formatProblem);
}

t.test('formatProblem prints the path only when there is one', async (t) => {
  const base = { file: 'a/b.yaml', line: 3, col: 7, message: 'bad; fix it' };
  t.equal(formatProblem({ ...base, path: 'routes[2].require.rolez' }), 'a/b.yaml:3:7 routes[2].require.rolez: bad; fix it');
  t.equal(formatProblem({ ...base, path: '' }), 'a/b.yaml:3:7 bad; fix it');
});

t.test('loadConfigFile reads a file and resolves its absolute path', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'p.yaml');
  await writeFile(file, `${ISSUER}audit: { output: audit.log }\n`);
  const result = await loadConfigFile(file, {});
  t.ok(result.ok);
  if (result.ok) {
    t.equal(result.config.file, file);
    t.equal(result.config.audit.output, join(dir, 'audit.log'));
  }
});

t.test('an unreadable file is one problem at 1:1 under the name the caller gave', async (t) => {
  const result = await loadConfigFile('does/not/exist.yaml', {});
  t.same(result, {
    ok: false,
    problems: [{ file: 'does/not/exist.yaml', line: 1, col: 1, path: '', message: 'cannot read the config file (ENOENT); check the path and its permissions' }],
  });
});

t.test('YAML syntax errors stop before any other check', async (t) => {
  t.same(problems('lisen: [\nworkers: 0\n'), [
    'c.yaml:2:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the syntax here',
  ]);
  t.same(problems('a: 1\na: 2\n'), ['c.yaml:2:1 YAML syntax error: Map keys must be unique; fix the syntax here']);
});

t.test('an empty document is read as an empty mapping', async (t) => {
  t.same(problems(''), ['c.yaml:1:1 issuers: no issuer configured; add at least one entry under issuers:']);
  t.same(problems('# only a comment\n'), ['c.yaml:1:1 issuers: no issuer configured; add at least one entry under issuers:']);
});

t.test('problems come in file order: line, then column', async (t) => {
  const lines = problems(`workers: 0\n${ISSUER}mode: x\nlisten: y\n`);
  t.same(lines.map((l) => l.split(' ')[0]), ['c.yaml:1:10', 'c.yaml:5:7', 'c.yaml:6:9']);
});

t.test('an unset variable hides the knock-on problems of the same value only', async (t) => {
  t.same(problems(`${ISSUER}listen: \${NOPE}\nworkers: 0\n`), [
    'c.yaml:4:9 listen: environment variable NOPE is not set; set it or write ${NOPE:-default}',
    'c.yaml:5:10 workers: must be at least 1; raise the value',
  ]);
});

t.test('typed substitution feeds the schema', async (t) => {
  const result = loadConfigText(`${ISSUER}workers: \${W:-3}\ntrust_forwarded_headers: \${T}\n`, 'c.yaml', { T: 'true' });
  t.same(result.ok && [result.config.workers, result.config.trustForwardedHeaders], [3, true]);
  t.same(problems(`${ISSUER}workers: "\${W:-3}"\n`), [], 'a quoted number is read as the number the schema wants');
  t.same(problems(`${ISSUER}workers: "\${W:-three}"\n`), ['c.yaml:4:10 workers: must be a whole number, not a string; change the value']);
  const secret = loadConfigText(`${ISSUER}login:\n  client_id: c\n  client_secret: \${S}\n`, 'c.yaml', { S: '12345' });
  t.equal(secret.ok && secret.config.login?.clientSecret, '12345', 'a numeric secret from the environment stays text');
});

t.test('secrets from the environment never appear in a problem', async (t) => {
  const secret = 'S3cr3t-do-not-print';
  const text = [
    'issuers:',
    '  - name: idp',
    '    issuer: ${SECRET}',
    '    jwks_uri: http://${SECRET}.example.com/jwks',
    '    secret: ${SECRET}',
    'public_url: ${SECRET}',
    'listen: ${SECRET}',
    'mode: ${SECRET}',
    'shutdown_timeout: ${SECRET}',
    'login:',
    '  client_id: ${SECRET}',
    '  issuer: ${SECRET}',
    '  browser: {}',
    '  cookie_secret: ${SECRET}',
    '  cookie: { name: "${SECRET}", same_site: "${SECRET}" }',
    'routes:',
    '  - name: ${SECRET}',
    '    match: { path: "${SECRET}", host: "${SECRET}" }',
    '    upstream: ${SECRET}',
    '  - name: ${SECRET}',
    '    match: { path: "/" }',
  ].join('\n');
  const schemaErrors = problems(text, { SECRET: secret });
  t.ok(schemaErrors.length >= 3, 'schema problems are reported');
  const crossField = problems(text.replace(/\n(listen|mode|shutdown_timeout):.*/g, '').replace(/, same_site: "\$\{SECRET\}"/, ''), { SECRET: secret });
  t.ok(crossField.length >= 8, 'cross-field problems are reported');
  for (const line of [...schemaErrors, ...crossField]) t.notMatch(line, secret);
});

t.test('warnings: no routes, an issuer without audiences, trust_forwarded_headers; in file order', async (t) => {
  const text = 'issuers:\n  - name: a\n    issuer: https://a.example\n  - name: b\n    issuer: https://b.example\n    audiences: [api]\ntrust_forwarded_headers: true\n';
  const result = loadConfigText(text, 'w.yaml', {});
  t.equal(result.ok, true);
  const lines = result.ok ? (result.warnings ?? []).map(formatProblem) : [];
  t.equal(lines.length, 3);
  t.match(lines[0], /^w\.yaml:1:1 routes: no routes/);
  t.match(lines[1], /^w\.yaml:2:5 issuers\[0\]: no audiences/);
  t.match(lines[2], /^w\.yaml:7:26 trust_forwarded_headers: /);
  const quiet = loadConfigText('issuers:\n  - name: a\n    issuer: https://a.example\n    audiences: [api]\nroutes:\n  - { name: r, match: { path: / } }\n', 'q.yaml', {});
  t.same(quiet.ok ? quiet.warnings : undefined, [], 'a config with routes and audiences has none');
});

t.test('placeholders stand in for unset variables with the shape their key expects', async (t) => {
  const text = `listen: 0.0.0.0:\${PORT}
public_url: \${PUBLIC_URL}
issuers:
  - name: kc
    issuer: https://\${KC_HOST}/realms/acme
    audiences: [api]
  - name: hs
    issuer: https://hs.example
    audiences: [api]
    algorithms: [HS256]
    secret: \${JWT_SECRET}
routes:
  - name: app
    match: { path: / }
    upstream: \${UPSTREAM}
login:
  issuer: kc
  client_id: portcullis
  client_secret: \${OIDC_CLIENT_SECRET}
  browser: {}
  cookie_secret: \${COOKIE_SECRET}
shutdown_timeout: \${STOP:-5s}
`;
  const strict = loadConfigText(text, 'p.yaml', {});
  t.equal(strict.ok, false, 'without placeholders the unset variables are problems');
  const result = loadConfigText(text, 'p.yaml', {}, { placeholders: true });
  t.ok(result.ok, result.ok ? 'placeholders fit' : result.problems.map(formatProblem).join('\n'));
  if (!result.ok) return;
  const { config } = result;
  t.same(config.listen, { host: '127.0.0.1', port: 0 });
  t.equal(config.publicUrl, 'https://placeholder.invalid');
  t.equal(config.issuers[0]?.issuer, 'https://placeholder.invalid/realms/acme');
  t.equal(config.issuers[1]?.secret, SECRET_PLACEHOLDER);
  t.equal(Buffer.byteLength(SECRET_PLACEHOLDER), 32, 'as long as the shortest accepted secret');
  t.equal(config.routes[0]?.upstream, 'https://placeholder.invalid');
  t.equal(config.shutdownTimeoutMs, 5000, 'a default is still used');

  const unfit = loadConfigText('issuers:\n  - name: kc\n    issuer: https://kc.example\nworkers: ${WORKERS}\n', 'u.yaml', {}, { placeholders: true });
  t.same(unfit.ok ? [] : unfit.problems.map(formatProblem), ['u.yaml:4:10 workers: no placeholder fits the value of ${WORKERS} here; write ${WORKERS:-<a valid value>} to check without the environment']);
});
