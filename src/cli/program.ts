/**
 * The `portcullis` command (docs/operations.md). Exit codes: commands set their own; a usage error
 * (unknown option, missing argument) exits 2, `--help` and `--version` exit 0.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';

function configOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (default: $PORTCULLIS_CONFIG)');
}

function configFile(opts: { config?: string }): string {
  const file = opts.config ?? process.env.PORTCULLIS_CONFIG;
  if (!file) {
    throw new CommanderError(2, 'portcullis.noConfig', 'error: no config file; pass -c FILE or set PORTCULLIS_CONFIG');
  }
  return file;
}

/** Each command's module is loaded when it runs, so `check` never pays for the proxy or the dev IdP. */
export function buildProgram(): Command {
  const program = new Command('portcullis')
    .description('Authentication sidecar: lets a request through only with a valid identity.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError();

  configOption(program.command('serve').description('run the sidecar with a config file')).action(
    async (opts: { config?: string }) => {
      const { runServe } = await import('./serve.js');
      process.exitCode = await runServe(configFile(opts));
    },
  );

  configOption(program.command('check').description('validate a config file and print every problem'))
    .option('--online', 'also fetch the discovery document and JWKS of each issuer')
    .option(
      '--no-env',
      'check without the environment (for CI without secrets): every ${NAME} without a default takes a placeholder ' +
        'of the shape its key expects (an https URL under issuer, jwks_uri, public_url and upstream; 127.0.0.1:0 in ' +
        'a listen address; a 32-byte string elsewhere, enough for cookie_secret) and is not reported; where no ' +
        'placeholder fits (a number, a duration), write ${NAME:-default}',
    )
    .option('--json', 'print { "ok": bool, "problems": [{ file, line, col, path, message, severity }] } instead of lines')
    .action(async (opts: { config?: string; online?: boolean; env: boolean; json?: boolean }) => {
      const { runCheck } = await import('./check.js');
      process.exitCode = await runCheck(configFile(opts), { online: opts.online === true, noEnv: !opts.env, json: opts.json === true });
    });

  configOption(program.command('verify').description('verify one token as serve would and print the decision'))
    .argument('[token]', 'the token, or - to read it from standard input')
    .option('--path <path>', 'judge a request to this path as serve would: route, route issuers, requirements')
    .option('--method <method>', 'method of that request (default: GET)')
    .option('--host <host>', 'Host of that request (for routes with match.host)')
    .addHelpText('after', '\nExit status: 0 allowed, 1 denied (or an invalid config), 2 usage, 3 the issuer keys could not be loaded.')
    .action(async (token: string | undefined, opts: { config?: string; path?: string; method?: string; host?: string }) => {
      const { runVerify } = await import('./verify.js');
      const { path, method, host } = opts;
      process.exitCode = await runVerify(configFile(opts), token, { ...(path !== undefined ? { path } : {}), ...(method !== undefined ? { method } : {}), ...(host !== undefined ? { host } : {}) });
    });

  program
    .command('dev')
    .description('run a development IdP, a demo upstream and the sidecar in front of it')
    .option('--port <n>', 'port of the sidecar', '8080')
    .option('--redirect-uri <url>', 'another callback URL the dev IdP accepts (repeatable), e.g. behind nginx', (v: string, all: string[]) => [...all, v], [])
    .action(async (opts: { port: string; redirectUri: string[] }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new CommanderError(2, 'portcullis.badPort', 'error: --port must be a number from 0 to 65535');
      }
      for (const uri of opts.redirectUri) {
        if (!URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol)) {
          throw new CommanderError(2, 'portcullis.badRedirectUri', 'error: --redirect-uri must be an absolute http(s) URL');
        }
      }
      const { runDev } = await import('./dev.js');
      process.exitCode = await runDev({ port, redirectUris: opts.redirectUri });
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version succeed; help shown because no command was given is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') {
        return 0;
      }
      if (err.code.startsWith('portcullis.')) process.stderr.write(`${err.message}\n`);
      return 2;
    }
    process.stderr.write(`portcullis: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
