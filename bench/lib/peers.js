/**
 * The Go peers of the benchmark, built once from their Go modules into the portcullis cache
 * directory by scripts/install-*.sh: oauth2-proxy (bearer JWTs through
 * `--skip-jwt-bearer-tokens`, the run's issuer and JWKS, discovery skipped) measured on its
 * forward-auth endpoint `/oauth2/auth` and as a reverse proxy, and Ory Oathkeeper (the `jwt`
 * authenticator) as a reverse proxy. A peer that cannot be built says why instead of a number.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, spawnServer, waitForPort } from './servers.js';

const SCRIPTS = resolve(import.meta.dirname, '../../scripts');

/**
 * Runs scripts/install-`name`.sh (a no-op once the binary is cached; a Go build otherwise):
 * `{ binary }` or `{ unavailable }` with the script's last words.
 */
export function installPeer(name) {
  const run = spawnSync('bash', [join(SCRIPTS, `install-${name}.sh`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 });
  const binary = run.stdout?.trim().split('\n').at(-1);
  if (run.status === 0 && binary) return { binary };
  const why = `${run.stderr ?? ''}${run.error?.message ?? ''}`.trim().split('\n').filter((l) => l !== '').slice(-2).join(' ').replace(/\s+/g, ' ');
  return { unavailable: `${name} could not be built: ${why || `exit ${String(run.status)}`}` };
}

/**
 * oauth2-proxy in front of `upstream`, accepting the run's bearer JWTs: issuer `issuer`, keys at
 * `jwksUri`, client id = the tokens' audience. Its request log (stdout) goes to /dev/null, as
 * the sidecar's audit log does. Resolves `{ url, pid, stop }`.
 */
export async function startOauth2Proxy({ binary, cpus, upstream, issuer, jwksUri, audience }) {
  const port = await freePort();
  const server = await spawnServer({
    name: 'oauth2-proxy',
    command: binary,
    args: [
      `--http-address=127.0.0.1:${port}`,
      `--upstream=${upstream}/`,
      '--provider=oidc',
      `--oidc-issuer-url=${issuer}`,
      '--skip-oidc-discovery',
      `--oidc-jwks-url=${jwksUri}`,
      `--login-url=${issuer}/authorize`,
      `--redeem-url=${issuer}/token`,
      `--client-id=${audience}`,
      '--client-secret=bench-client-secret',
      `--cookie-secret=${randomBytes(16).toString('hex')}`,
      '--cookie-secure=false',
      '--email-domain=*',
      '--insecure-oidc-allow-unverified-email',
      '--skip-jwt-bearer-tokens',
    ],
    cpus,
    stdout: 'ignore',
  });
  await waitForPort(server, port);
  return { ...server, url: `http://127.0.0.1:${port}` };
}

/**
 * Oathkeeper as a reverse proxy in front of `upstream` with one rule: every path, the `jwt`
 * authenticator (the run's JWKS, issuer and audience), the `allow` authorizer, the `noop`
 * mutator. Resolves `{ url, pid, stop }`.
 */
export async function startOathkeeper({ binary, dir, cpus, upstream, issuer, jwksUri, audience }) {
  mkdirSync(dir, { recursive: true });
  const [proxyPort, apiPort] = [await freePort(), await freePort()];
  const rules = join(dir, 'rules.json');
  writeFileSync(
    rules,
    JSON.stringify([
      {
        id: 'bench',
        upstream: { url: upstream },
        match: { url: `http://127.0.0.1:${proxyPort}/<**>`, methods: ['GET'] },
        authenticators: [{ handler: 'jwt' }],
        authorizer: { handler: 'allow' },
        mutators: [{ handler: 'noop' }],
      },
    ]),
  );
  const config = join(dir, 'oathkeeper.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'error' },
      serve: { proxy: { host: '127.0.0.1', port: proxyPort }, api: { host: '127.0.0.1', port: apiPort } },
      access_rules: { repositories: [`file://${rules}`] },
      authenticators: { jwt: { enabled: true, config: { jwks_urls: [jwksUri], trusted_issuers: [issuer], target_audience: [audience], allowed_algorithms: ['RS256'] } } },
      authorizers: { allow: { enabled: true } },
      mutators: { noop: { enabled: true } },
    }),
  );
  const server = await spawnServer({ name: 'oathkeeper', command: binary, args: ['serve', '--config', config], cpus, stdout: 'ignore' });
  await waitForPort(server, proxyPort);
  return { ...server, url: `http://127.0.0.1:${proxyPort}` };
}
