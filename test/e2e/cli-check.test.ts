/**
 * `portcullis check` and the program's usage rules, run as real processes of the built CLI:
 * every invalid fixture prints exactly its .expected lines and exits 1, every valid one exits
 * 0; usage errors exit 2; `--online` loads a live dev IdP and reports a failing issuer at its
 * own line.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startDevIdp } from '../../src/dev/idp.js';
import { startJwksServer } from '../support/jwks-server.js';
import { runCli, writeConfig } from '../support/sidecar.js';

// About forty CLI processes: more than tap's default per-file time on a busy machine.
t.setTimeout(300_000);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The .expected files name the fixtures relative to the project root, as `check` prints them.
process.chdir(ROOT);

/**
 * Nothing from the caller's environment may fill a fixture's `${...}` or pick a config; tap's
 * coverage hook (NODE_OPTIONS) is left out too, as it doubles the start-up of ~40 processes.
 */
const CLEAN: NodeJS.ProcessEnv = {
  NODE_OPTIONS: undefined,
  PORTCULLIS_CONFIG: undefined,
  OIDC_CLIENT_SECRET: undefined,
  COOKIE_SECRET: undefined,
  JWT_SECRET: undefined,
  PORTCULLIS_TEST_PORT: undefined,
  PORTCULLIS_TEST_ISSUER: undefined,
  PORTCULLIS_TEST_SECRET: undefined,
  PORTCULLIS_TEST_A: undefined,
  PORTCULLIS_TEST_B: undefined,
};
const SECRETS: NodeJS.ProcessEnv = {
  ...CLEAN,
  OIDC_CLIENT_SECRET: 'client-secret-from-env',
  COOKIE_SECRET: 'cookie-secret-0123456789abcdef-0123',
  JWT_SECRET: 'jwt-secret-0123456789abcdef-0123456789',
};
const VERSION = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
const fixtures = (folder: string): string[] =>
  readdirSync(`${ROOT}test/fixtures/config/${folder}`)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `test/fixtures/config/${folder}/${f}`);

type CliResult = Awaited<ReturnType<typeof runCli>>;
let slots = 3;
const waiting: Array<() => void> = [];
/** Runs the CLI with at most three processes at once; every run starts now, each test awaits its own. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  if (slots === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  else slots -= 1;
  try {
    return await runCli(args, { env });
  } finally {
    const next = waiting.shift();
    if (next) next();
    else slots += 1;
  }
}

const invalid = fixtures('invalid');
t.ok(invalid.length >= 12, 'the invalid fixtures are found');
const valid = fixtures('valid');
const runs = new Map([...invalid.map((f) => [f, cli(['check', '-c', f], CLEAN)] as const), ...valid.map((f) => [f, cli(['check', '-c', f], SECRETS)] as const)]);
for (const file of invalid) {
  t.test(`check ${file}: exactly the lines of its .expected, exit 1`, async (t) => {
    const res = await runs.get(file)!;
    t.equal(res.stdout, readFileSync(file.replace(/\.yaml$/, '.expected'), 'utf8'));
    t.equal(res.code, 1);
  });
}

for (const file of valid) {
  t.test(`check ${file}: ok, exit 0`, async (t) => {
    const res = await runs.get(file)!;
    const quoted = file.replaceAll('.', '\\.');
    t.match(res.stdout, new RegExp(`^(${quoted}:\\d+:\\d+ [^ ]+: warning: .*\\n)*${quoted}: ok \\(\\d+ issuer\\(s\\), \\d+ route\\(s\\)\\)\\n$`));
    t.equal(res.stderr, '');
    t.equal(res.code, 0);
  });
}

const [anInvalid = '', aValid = ''] = [invalid[0], valid[0]];
const usage: Array<[string, string[], NodeJS.ProcessEnv, number, (out: { stdout: string; stderr: string }) => boolean]> = [
  ['check without -c and without PORTCULLIS_CONFIG is a usage error', ['check'], CLEAN, 2, (o) => o.stderr.includes('no config file')],
  ['an unknown option is a usage error', ['check', '--bogus', '-c', aValid], SECRETS, 2, (o) => o.stderr.includes("unknown option '--bogus'")],
  ['an unknown command is a usage error', ['bogus'], CLEAN, 2, (o) => o.stderr.includes("unknown command 'bogus'")],
  ['no command at all is a usage error (help on stderr)', [], CLEAN, 2, (o) => o.stderr.includes('Usage: portcullis')],
  ['--version prints the package version', ['--version'], CLEAN, 0, (o) => o.stdout === `${VERSION}\n`],
  ['-V prints the package version', ['-V'], CLEAN, 0, (o) => o.stdout === `${VERSION}\n`],
  ['--help lists the commands', ['--help'], CLEAN, 0, (o) => ['serve', 'check', 'verify', 'dev'].every((c) => o.stdout.includes(`  ${c} `))],
  ['check --help shows its options', ['check', '--help'], CLEAN, 0, (o) => ['--online', '--config', '--no-env', '--json', 'placeholder'].every((x) => o.stdout.includes(x))],
  ['PORTCULLIS_CONFIG is honoured for an invalid file', ['check'], { ...CLEAN, PORTCULLIS_CONFIG: anInvalid }, 1, (o) => o.stdout === readFileSync(anInvalid.replace(/\.yaml$/, '.expected'), 'utf8')],
  ['PORTCULLIS_CONFIG is honoured for a valid file', ['check'], { ...SECRETS, PORTCULLIS_CONFIG: aValid }, 0, (o) => o.stdout.endsWith(`${aValid}: ok (1 issuer(s), 2 route(s))\n`)],
  ['-c wins over PORTCULLIS_CONFIG', ['check', '-c', aValid], { ...SECRETS, PORTCULLIS_CONFIG: anInvalid }, 0, (o) => o.stdout.endsWith(`${aValid}: ok (1 issuer(s), 2 route(s))\n`)],
  ['a missing file is reported at 1:1, exit 1', ['check', '-c', 'test/fixtures/config/nope.yaml'], CLEAN, 1, (o) => o.stdout.startsWith('test/fixtures/config/nope.yaml:1:1 cannot read the config file')],
];
for (const [name, args, env, code, expectOutput] of usage) {
  const run = cli(args, env);
  t.test(`portcullis ${args.join(' ')}: ${name} (exit ${code})`, async (t) => {
    const res = await run;
    t.equal(res.code, code);
    t.ok(expectOutput(res), `output as expected:\n${res.stdout}${res.stderr}`);
  });
}

t.test('check --online', async (t) => {
  const [idp, broken] = await Promise.all([startDevIdp(), startJwksServer([])]);
  t.teardown(() => Promise.all([idp.close(), broken.close()]));
  broken.modes.discovery = 'error500';

  t.test('a live dev IdP: keys loaded, exit 0', async (t) => {
    const file = writeConfig(`issuers:\n  - name: idp\n    issuer: ${idp.issuer}\n    audiences: [api]\nroutes:\n  - { name: all, match: { path: / } }\n`);
    const res = await runCli(['check', '--online', '-c', file], { env: CLEAN });
    t.equal(res.stdout, `${file}: ok (1 issuer(s), 1 route(s), keys loaded)\n`);
    t.equal(res.code, 0);
  });

  t.test('an issuer whose discovery answers 500: one line at that issuer, exit 1', async (t) => {
    const yaml = `# two issuers, the second one broken
issuers:
  - name: idp
    issuer: ${idp.issuer}
  - name: broken
    issuer: ${broken.url}
`;
    const file = writeConfig(yaml);
    const res = await runCli(['check', '--online', '-c', file], { env: CLEAN });
    const lines = res.stdout.split('\n').filter((l) => l !== '' && !l.includes(': warning: '));
    t.equal(lines.length, 1, res.stdout);
    t.match(lines[0], new RegExp(`^${file.replaceAll('.', '\\.')}:5:5 issuers\\[1\\]: .*500`));
    t.equal(res.code, 1);
    t.ok(broken.hits.discovery >= 1, 'the issuer was really asked');
  });
});

t.test('warnings, --no-env and --json', async (t) => {
  const warned = writeConfig(`issuers:
  - name: kc
    issuer: https://kc.example.com/realms/acme
trust_forwarded_headers: true
`);
  const plain = await cli(['check', '-c', warned], CLEAN);
  t.equal(plain.code, 0, 'warnings keep exit 0');
  t.match(plain.stdout, /:1:1 routes: warning: no routes/);
  t.match(plain.stdout, /:2:5 issuers\[0\]: warning: no audiences/);
  t.match(plain.stdout, /:4:26 trust_forwarded_headers: warning: .*trusted_proxies/);
  t.match(plain.stdout, /: ok \(1 issuer\(s\), 0 route\(s\)\)\n$/);

  const json = await cli(['check', '--json', '-c', warned], CLEAN);
  t.equal(json.code, 0);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; problems: Array<Record<string, unknown>> };
  t.equal(parsed.ok, true);
  t.same(parsed.problems.map((p) => [p.path, p.severity, p.line, p.col, p.file]), [
    ['routes', 'warning', 1, 1, warned],
    ['issuers[0]', 'warning', 2, 5, warned],
    ['trust_forwarded_headers', 'warning', 4, 26, warned],
  ]);

  const broken = 'test/fixtures/config/invalid/several-problems.yaml';
  const errors = await cli(['check', '--json', '-c', broken], CLEAN);
  t.equal(errors.code, 1);
  const report = JSON.parse(errors.stdout) as { ok: boolean; problems: Array<{ file: string; line: number; col: number; path: string; message: string; severity: string }> };
  t.equal(report.ok, false);
  const expected = readFileSync(broken.replace(/\.yaml$/, '.expected'), 'utf8');
  t.equal(report.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.path === '' ? '' : `${p.path}: `}${p.message}\n`).join(''), expected, 'the same problems as the lines');
  t.ok(report.problems.every((p) => p.severity === 'error'));

  const secrets = writeConfig(`listen: 0.0.0.0:\${PORT}
public_url: \${PUBLIC_URL}
issuers:
  - name: kc
    issuer: https://\${KC_HOST}/realms/acme
    audiences: [api]
routes:
  - name: app
    match: { path: / }
    upstream: \${UPSTREAM}
login:
  client_id: portcullis
  client_secret: \${OIDC_CLIENT_SECRET}
  browser: {}
  cookie_secret: \${COOKIE_SECRET}
`);
  const withoutEnv = await cli(['check', '-c', secrets], CLEAN);
  t.equal(withoutEnv.code, 1, 'without --no-env every unset variable is a problem');
  t.equal(withoutEnv.stdout.split('\n').filter((l) => l.includes('is not set')).length, 6);
  const noEnv = await cli(['check', '--no-env', '-c', secrets], CLEAN);
  t.equal(noEnv.stdout, `${secrets}: ok (1 issuer(s), 1 route(s))\n`, 'placeholders of the right shape: nothing reported');
  t.equal(noEnv.code, 0);
  const shortSecret = await cli(['check', '--no-env', '-c', secrets], { ...CLEAN, COOKIE_SECRET: 'short' });
  t.equal(shortSecret.code, 0, '--no-env does not read the environment at all');

  const unfit = writeConfig(`issuers:\n  - name: kc\n    issuer: https://kc.example.com\n    audiences: [api]\nshutdown_timeout: \${STOP}\nroutes:\n  - { name: all, match: { path: / }, upstream: http://127.0.0.1:1 }\n`);
  const res = await cli(['check', '--no-env', '--json', '-c', unfit], CLEAN);
  t.equal(res.code, 1);
  t.match(JSON.parse(res.stdout), { ok: false, problems: [{ path: 'shutdown_timeout', line: 5, severity: 'error', message: /no placeholder fits the value of \$\{STOP\} here; write \$\{STOP:-<a valid value>\}/ }] });
});
